"""Whisper (faster-whisper / CTranslate2) on the CPU: the built-in English recognizer.

One utterance at a time (Whisper does not stream; loop/early_decoding.py starts it during the endpoint silence):
1. The Silero VAD that ships in the faster-whisper wheel finds the speech. No speech, no decoding: this is
   what keeps Whisper from writing "Thank you." for silence, noise, music, clicks, coughs or breathing.
2. The speech (with a little padding) is encoded in a window only as long as it needs (DecodeOptions
   .min_window_s and up): CTranslate2 accepts fewer than 3000 mel frames, and a 10 s window encodes in a
   fraction of the 30 s window's time.
3. Beam search (3 beams), English, no timestamps, at most a few tokens per second of speech (a short window
   can make tiny.en repeat itself; the cap ends that at once). The other beams and a greedy reading of the
   same encoding are kept as the transcript's alternatives, which the red-flag check reads too.
4. A doubtful result (low average log-probability, repetition, or nothing for audible speech) is decoded
   again in the standard 30 s window, and the more probable reading is kept: the cascade costs the full
   price only where the short window may have misheard.
5. With a wake phrase set, an utterance whose reading does not start with it is asked whether it does all the
   same: Whisper's own probability of the wake phrase's words at its start (teacher-forced, CTranslate2
   align). Where that is high, it is decoded again with the wake phrase as the start of its reading, so
   the decoder follows the voice that said it rather than a TV talking behind it (WAKE_LOGPROB). Where it is
   only plausible, that reading is offered beside the free one (Transcript.addressed), for the listening
   loop to take from an utterance as loud as the person (WAKE_LOGPROB_ADDRESSED).
6. The closed set of phrases that matter (core/listened.py: red flags as people say them, voice commands) is
   listened for on every utterance's encoding: the greedy reading's own step probabilities rank the phrases by
   how their first tokens fit (free: they come with that reading), and the few best are teacher-forced in one
   batch (CTranslate2 align) on the encoding cut to the speech. One that is clearly likely and more likely than
   the free reading over as many tokens is offered beside it (Transcript.listened_for; LISTEN_*).
7. The transcript carries Whisper's own scores: confidence = exp(average log-probability), and in_domain
   is False when the scores say the words are a guess (no-speech probability high or log-probability low),
   which makes the understanding ask "did you mean ...?" instead of answering.
The figures behind each constant are in docs/decisions.md; `python -m bench.recognition` measures them.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.core.listened import ListenPhrase
from assistant.core.question_end import TRAILING_MARKS
from assistant.core.wake import active_wake_phrase
from assistant.recognition.allocator import map_big_buffers_separately
from assistant.recognition.base import Listened, RecognizerError, StreamingRecognizer, Transcript, as_int16
from assistant.recognition.vocabulary import spoken_words
from assistant.recognition.whisper_model import (
    default_cache_file,
    int8_copy,
    looks_like_whisper_model,
    packaged_model_dir,
    verify_packaged_model,
)

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAMES_PER_SECOND = 100  # Whisper's mel frames
FULL_WINDOW = 3000  # the 30 s window Whisper was trained on
# One decoding thread: the same decisions at less CPU (tiny.en's matrices are too small to repay a second),
# and the other core stays free for the microphone, the VAD and speech synthesis.
CPU_THREADS = 1
# Beam search with 3 beams, plus a greedy reading of the same encoding as one more alternative: more right
# decisions and spoken emergencies caught than greedy alone, for about 0.04 s more CPU a question.
BEAMS = 3
# Over a TV, Whisper's free reading seldom writes the wake phrase. Its mean log-probability per token,
# teacher-forced at the start of the reading, tells a wake phrase said under the TV from speech without it;
# above this, the utterance is decoded again from the wake phrase on. About 12 ms of CPU per spelling tried.
WAKE_LOGPROB = -3.5
# Between this and WAKE_LOGPROB the reading that starts with the wake phrase is only offered
# (Transcript.addressed): the listening loop takes it from an utterance as loud as the person, never from
# the TV's own quieter stretches.
WAKE_LOGPROB_ADDRESSED = -4.0
# Listening for the closed set: the phrases teacher-forced on each utterance (the best by how their first tokens
# fit the greedy reading), and what one must score to be offered: a mean log-probability per token of at least
# LISTEN_LOGPROB (per meaning), and no more than LISTEN_MARGIN below the free (greedy) reading over as many
# tokens. On the dev clips a red flag's own words over the TV scored -1.9 to -2.0, other phrasings of it -2.5
# to -3, a near phrase up to -2.4 ("I can't button my shirt" as "I'm going to hurt myself") and a negation
# -2.0 ("I don't have chest pain" as "I have chest pain": kept out by the negation in the free reading,
# recognition/reading.py); a command over the TV -1.5 to -2.5, nothing else above -3.4 (docs/decisions.md).
LISTEN_CANDIDATES = 3
LISTEN_LOGPROB = {"emergency": -2.2, "command": -2.6}
LISTEN_MARGIN = 1.0
LISTEN_PAD_POSITIONS = 16  # encoder positions (20 ms each) kept after the speech when the encoding is cut


@dataclass(frozen=True)
class DecodeOptions:
    # The shortest encoder window tried first: shorter ones saved CPU but lost a spoken emergency or heard a
    # hum as words.
    min_window_s: float = 10.0
    pad_s: float = 3.0  # silence after the speech inside that window (a window that ends on speech misleads it)
    fallback_logprob: float = -0.6  # average log-probability below this: decode again in the 30 s window
    fallback_compression: float = 2.0  # gzip ratio above this (repetition): decode again
    no_speech_logprob: float = -1.0  # no-speech probability high AND log-probability below this: nothing said
    no_speech_prob: float = 0.6
    # Below this, whatever the no-speech probability, the words are invented (a speech-like hum scored -1.78;
    # no spoken question scores below -1.4).
    invented_logprob: float = -1.5
    doubtful_logprob: float = -0.6  # below this (as for the cascade) the words are a guess: "did you mean ...?"
    vad_threshold: float = 0.5  # Silero speech probability
    min_speech_s: float = 0.12  # less voiced audio than this is a click or a breath, not a word
    speech_pad_s: float = 0.25  # kept around the speech the VAD found
    lead_in_s: float = 0.5  # quiet put before the speech
    tokens_per_second: float = 6.0  # the decoding cap: fast speech is about 4 tokens a second
    cascade: bool = True


class WhisperRecognizer(StreamingRecognizer):
    """Protocol recognizer (base.Recognizer) around a faster-whisper model folder."""

    name = "whisper"
    sample_rate = SAMPLE_RATE

    def __init__(self, model_dir: Path | None = None, options: DecodeOptions | None = None,
                 cpu_threads: int = CPU_THREADS, verify_cache: Path | None = None,
                 wake_phrase: str | None = None, listen_for: tuple[ListenPhrase, ...] = ()) -> None:
        try:
            import ctranslate2  # noqa: F401 - a clear message when the engine itself is missing
            from faster_whisper import WhisperModel
            from faster_whisper.tokenizer import Tokenizer
        except ImportError as exc:
            raise RecognizerError(f"faster-whisper is not installed ({exc}): run `make install`") from exc
        map_big_buffers_separately()  # before the model's buffers exist (allocator.py)
        self.options = options or DecodeOptions()
        packaged = model_dir is None
        folder = packaged_model_dir() if packaged else Path(model_dir).expanduser()
        load_from = folder
        if packaged:
            verify_cache = verify_cache or default_cache_file()
            verify_packaged_model(folder, verify_cache)
            load_from = int8_copy(folder, verify_cache) or folder
        elif not looks_like_whisper_model(folder):
            problem = "does not exist" if not folder.exists() else "is not a faster-whisper model folder"
            raise RecognizerError(f"the Whisper model {folder} {problem} (it needs model.bin, config.json and "
                                  "tokenizer.json). Give another folder with --model, or leave --model out to "
                                  "use the built-in English model.")
        try:
            self._model = WhisperModel(str(load_from), device="cpu", compute_type="int8", cpu_threads=cpu_threads)
        except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError with its own wording
            raise RecognizerError(f"the Whisper model in {folder} could not be loaded: {exc}") from exc
        self.model_dir = folder
        self._tokenizer = Tokenizer(self._model.hf_tokenizer, self._model.model.is_multilingual,
                                    task="transcribe", language="en")
        # No initial prompt, no rescoring of near-miss spans, no speech cleaning before Whisper: each was
        # measured and cost spoken emergencies or gained nothing (docs/decisions.md).
        tokenizer = self._tokenizer
        self._prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
        self._wake_words, self._wake_spellings = _wake_spellings(tokenizer, wake_phrase)
        # the wake phrase is listened for by _wake_reading; the rest of the set here, each as Whisper writes it
        self.listen_for = tuple(p for p in listen_for if p.meaning != "wake")
        self._listen_tokens = [tuple(tokenizer.encode(_spelling(p.text))) for p in self.listen_for]
        self.last_listen: list[tuple[str, float, float]] = []  # (phrase, log-probability, margin) last scored
        self.last_listen_seconds = 0.0  # CPU spent listening on the last utterance (the bench reads it)
        self._steps_seconds = 0.0
        self._lock = threading.Lock()  # one decode at a time: CTranslate2 models are shared state
        self._buffer: list[np.ndarray] = []
        what = "built-in English model (Whisper tiny.en)" if packaged else f"model {folder}"
        self.description = f"Whisper (faster-whisper), {what}, CPU int8"
        self.last_passes = 0  # encoder passes of the last transcribe (1, or 2 after a cascade); for the bench

    # -- the streaming protocol: Whisper decodes whole utterances ------------------------------------------

    def accept(self, samples: np.ndarray) -> bool:
        self._buffer.append(as_int16(samples).copy())
        return False

    def partial(self) -> str:
        return ""  # no partial text: the utterance is decoded once it is settled

    def reset(self) -> None:
        self._buffer = []

    def final(self) -> Transcript:
        audio = np.concatenate(self._buffer) if self._buffer else np.zeros(0, np.int16)
        self._buffer = []
        return self._decode(audio)

    def transcribe(self, samples: np.ndarray) -> Transcript:
        return self._decode(as_int16(samples))

    # -- decoding -------------------------------------------------------------------------------------------

    def speech_span(self, audio: np.ndarray) -> tuple[int, int] | None:
        """(start, end) sample of the speech in float audio, padded; None when there is none."""
        from faster_whisper.vad import VadOptions, get_speech_timestamps

        options = self.options
        spans = get_speech_timestamps(
            audio, VadOptions(threshold=options.vad_threshold, min_speech_duration_ms=int(options.min_speech_s * 1000),
                              min_silence_duration_ms=2000, speech_pad_ms=int(options.speech_pad_s * 1000)))
        if not spans:
            return None
        return max(0, spans[0]["start"]), min(len(audio), spans[-1]["end"])

    def _decode(self, samples: np.ndarray) -> Transcript:
        self.last_passes = 0
        if samples.size < SAMPLE_RATE // 10:
            return Transcript.empty()
        audio = samples.astype(np.float32) / 32768.0
        options = self.options
        with self._lock:
            span = self.speech_span(audio)
            if span is None:
                return Transcript.empty()
            # Speech that starts right at the first sample loses its first word ("what is ..." -> "is ..."):
            # Whisper expects a moment of quiet before it, as a recording has.
            speech = np.concatenate([np.zeros(int(options.lead_in_s * SAMPLE_RATE), np.float32),
                                     audio[span[0]:span[1]]])
            features = self._model.feature_extractor(speech)
            frames = features.shape[-1]
            short = min(FULL_WINDOW, max(int(options.min_window_s * FRAMES_PER_SECOND),
                                         frames + int(options.pad_s * FRAMES_PER_SECOND)))
            short += short % 2  # the encoder's convolution halves the frames
            max_tokens = 8 + int(options.tokens_per_second * len(speech) / SAMPLE_RATE)
            result = self._pass(features, short, max_tokens)
            if options.cascade and short < FULL_WINDOW and self._doubtful(result):
                again = self._pass(features, FULL_WINDOW, max_tokens)
                if again.avg_logprob > result.avg_logprob:
                    result = again
            likely, forced = self._wake_reading(result, min(frames, result.window), max_tokens)
            listened = self._listen(forced if likely and forced is not None else result, frames)
            if likely and forced is not None:
                return dataclasses.replace(self._transcript(forced), listened_for=listened)
        transcript = dataclasses.replace(self._transcript(result), listened_for=listened)
        if forced is not None and (addressed := self._transcript(forced)).text:
            return dataclasses.replace(transcript, addressed=addressed)
        return transcript

    def _listen(self, result: _Pass, frames: int) -> Listened | None:
        """The phrase of the closed set that scores clearly on this encoding and beats the free reading."""
        import ctranslate2

        self.last_listen = []
        if not self._listen_tokens or result.steps is None or result.encoded is None:
            self.last_listen_seconds = 0.0
            return None
        started = time.process_time()
        steps, greedy, prefix = result.steps, result.greedy, result.prefix
        if not prefix:  # a reading that starts with the wake phrase: the phrases are scored after it
            for spelling in self._wake_spellings:
                if greedy[:len(spelling)] == spelling and len(steps) > len(spelling):
                    steps, greedy, prefix = steps[len(spelling):], greedy[len(spelling):], spelling
                    break
        # the encoding cut after the speech: the decoder's cost grows with every position it attends to
        encoded = np.asarray(result.encoded)
        encoded = encoded[:, :min(encoded.shape[1], (min(frames, result.window) + 1) // 2 + LISTEN_PAD_POSITIONS)]
        start = [*self._prompt, *prefix]
        # how each phrase's start fits: its mean log-probability up to where it leaves the greedy reading
        evidence = []
        for i, tokens in enumerate(self._listen_tokens):
            known = []
            for step, token in enumerate(tokens[:len(steps)]):
                known.append(float(steps[step, token]))
                if step >= len(greedy) or greedy[step] != token:
                    break
            evidence.append((float(np.mean(known)), i))
        chosen = [i for _, i in sorted(evidence, reverse=True)[:LISTEN_CANDIDATES]]
        batch = np.ascontiguousarray(np.repeat(encoded, len(chosen), axis=0))
        aligned = self._model.model.align(ctranslate2.StorageView.from_array(batch), start,
                                          [list(self._listen_tokens[i]) for i in chosen],
                                          min(frames, 2 * encoded.shape[1]))
        greedy_lp = [float(steps[j, greedy[j]]) for j in range(min(len(greedy), len(steps)))]
        best: Listened | None = None
        for i, alignment in zip(chosen, aligned, strict=True):
            probs = np.maximum(np.asarray(alignment.text_token_probs, dtype=np.float64), 1e-12)
            logprob = float(np.mean(np.log(probs)))
            n = len(self._listen_tokens[i])
            free = float(np.mean(greedy_lp[:n])) if greedy_lp else 0.0
            phrase = self.listen_for[i]
            self.last_listen.append((phrase.text, logprob, logprob - free))
            if logprob >= LISTEN_LOGPROB[phrase.meaning] and logprob - free >= -LISTEN_MARGIN and (
                    best is None or logprob > best.logprob):
                best = Listened(phrase.text, phrase.meaning, phrase.name, logprob, logprob - free)
        self.last_listen_seconds = time.process_time() - started + self._steps_seconds
        return best

    def _wake_reading(self, result: _Pass, frames: int, max_tokens: int) -> tuple[bool, _Pass | None]:
        """The reading that starts with the wake phrase, where Whisper finds it plausible but did not write it,
        and whether it is likely (WAKE_LOGPROB) rather than only plausible (WAKE_LOGPROB_ADDRESSED)."""
        if not self._wake_spellings or spoken_words(result.text)[:len(self._wake_words)] == self._wake_words:
            return False, None
        best, spelling = -math.inf, None
        for tokens in self._wake_spellings:
            logprob = self._logprob_per_token(result.encoded, tokens, frames)
            if logprob > best:
                best, spelling = logprob, tokens
            if best >= WAKE_LOGPROB:
                break
        if spelling is None or best < WAKE_LOGPROB_ADDRESSED:
            return False, None
        forced = self._generate(result.encoded, result.window, max_tokens, prefix=spelling)
        if self._invented(forced):
            return False, None  # the free reading is kept: what it heard may still be an emergency
        # the free reading stays one more alternative (the red-flag check reads every one)
        forced = dataclasses.replace(forced, alternatives=(*forced.alternatives, result.text, *result.alternatives))
        return best >= WAKE_LOGPROB, forced

    def _doubtful(self, result: _Pass) -> bool:
        options = self.options
        return (result.avg_logprob < options.fallback_logprob or result.compression > options.fallback_compression
                or not result.text.strip() or result.capped or _loop_start(spoken_words(result.text)) is not None)

    def _logprob_per_token(self, encoded, tokens: tuple[int, ...], frames: int) -> float:
        """Whisper's mean log-probability of `tokens` as the start of the reading (teacher-forced)."""
        aligned = self._model.model.align(encoded, self._prompt, [list(tokens)], frames)[0]
        return float(np.mean(np.log(np.maximum(np.asarray(aligned.text_token_probs, dtype=np.float64), 1e-12))))

    def _pass(self, features: np.ndarray, window: int, max_tokens: int) -> _Pass:
        import ctranslate2

        self.last_passes += 1
        if features.shape[-1] < window:
            features = np.pad(features, ((0, 0), (0, window - features.shape[-1])))
        else:
            features = features[:, :window]
        encoded = self._model.model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
        return self._generate(encoded, window, max_tokens)

    def _generate(self, encoded, window: int, max_tokens: int, prefix: list[int] | tuple[int, ...] = ()) -> _Pass:
        """Beam search and a greedy reading of one encoding; `prefix`: the start of the reading, given."""
        prompt = [*self._prompt, *prefix]
        options = {"max_length": len(prompt) + max_tokens, "suppress_blank": not prefix, "suppress_tokens": [-1]}
        result = self._model.model.generate(encoded, [prompt], beam_size=BEAMS, num_hypotheses=BEAMS,
                                            return_scores=True, return_no_speech_prob=True, **options)[0]
        # the greedy reading's step probabilities (its first LISTEN_STEPS steps) rank the phrases listened for
        greedy = self._model.model.generate(encoded, [prompt], beam_size=1, return_logits_vocab=bool(self.listen_for),
                                            **options)[0]
        started = time.process_time()
        steps = _log_softmax(np.asarray(greedy.logits[0][:LISTEN_STEPS])) if self.listen_for else None
        self._steps_seconds = time.process_time() - started  # counted in what listening costs
        texts = [self._decode_tokens(ids) for ids in [*result.sequences_ids, *greedy.sequences_ids]]
        # the readings hold the prefix; the score is of the tokens decoded after it
        tokens = len([t for t in result.sequences_ids[0] if t < self._tokenizer.eot]) - len(prefix)
        # faster-whisper's own recovery of the average log-probability from CTranslate2's normalized score
        avg_logprob = result.scores[0] * tokens / (tokens + 1)
        return _Pass(texts[0], avg_logprob, result.no_speech_prob, _compression(texts[0]), window,
                     capped=len(result.sequences_ids[0]) - len(prefix) >= max_tokens, alternatives=tuple(texts[1:]),
                     encoded=encoded, steps=steps, greedy=tuple(greedy.sequences_ids[0]), prefix=tuple(prefix))

    def _decode_tokens(self, ids: list[int]) -> str:
        return self._tokenizer.decode([t for t in ids if t < self._tokenizer.eot])

    def _invented(self, result: _Pass) -> bool:
        """Whisper's own scores say the words were not said."""
        options = self.options
        return ((result.no_speech_prob > options.no_speech_prob and result.avg_logprob < options.no_speech_logprob)
                or result.avg_logprob < options.invented_logprob  # too unlikely to be what anybody said
                or result.compression > 2.4)  # a loop of repeated text is never what was said

    def _transcript(self, result: _Pass) -> Transcript:
        options = self.options
        if self._invented(result):
            return Transcript.empty()
        text, loop = _cleaned(result.text)
        if not text:
            return Transcript.empty()
        alternatives = tuple(dict.fromkeys(a for a in (_cleaned(t)[0] for t in result.alternatives) if a and a != text))
        confidence = math.exp(min(0.0, result.avg_logprob))
        in_domain = result.avg_logprob >= options.doubtful_logprob and result.no_speech_prob < options.no_speech_prob
        trails_off = loop is None and result.text.rstrip().endswith(TRAILING_MARKS)
        return Transcript(text, confidence, in_domain, (), trails_off=trails_off, alternatives=alternatives)


@dataclass(frozen=True)
class _Pass:
    text: str
    avg_logprob: float
    no_speech_prob: float
    compression: float
    window: int
    capped: bool = False  # stopped by the token cap, not by the model: a loop, most likely
    alternatives: tuple[str, ...] = ()  # the other beams' texts, then the greedy one
    encoded: object = field(default=None, repr=False, compare=False)  # the encoder's output it was read from
    steps: np.ndarray | None = field(default=None, repr=False, compare=False)  # greedy log-probabilities per step
    greedy: tuple[int, ...] = ()  # the greedy reading's tokens (after the prefix)
    prefix: tuple[int, ...] = ()  # the start of the reading it was given (the wake phrase), if any


LISTEN_STEPS = 16  # greedy steps kept for ranking the phrases listened for (longer phrases: the rest unranked)


def _spelling(text: str) -> str:
    """A phrase as Whisper starts a reading with it: " I can't catch my breath.", " Stop."."""
    text = " ".join(text.split())
    return f" {text[:1].upper()}{text[1:]}."


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _wake_spellings(tokenizer, phrase: str | None) -> tuple[list[str], tuple[tuple[int, ...], ...]]:
    """The wake phrase's words, and the ways Whisper may start a reading with it ("Hey coach," "Hey, coach,")."""
    words = spoken_words(active_wake_phrase(phrase) or "")
    if not words:
        return [], ()
    said = " ".join(words).capitalize()
    spellings = [f" {said},", f" {said}."]
    if len(words) > 1:
        spellings.append(f" {words[0].capitalize()}, {' '.join(words[1:])},")
    return words, tuple(tuple(tokenizer.encode(s)) for s in spellings)


def _cleaned(text: str) -> tuple[str, int | None]:
    """The spoken words, cut where a loop starts (what comes before it was said; the loop is invented)."""
    words = spoken_words(text)
    loop = _loop_start(words)
    return " ".join(words[:loop]), loop


LOOP_WORDS = 3  # the same three words twice in one short question: the decoder is repeating itself


def _loop_start(words: list[str]) -> int | None:
    """Where a repetition of an earlier run of LOOP_WORDS words starts, or None."""
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - LOOP_WORDS + 1):
        gram = tuple(words[i:i + LOOP_WORDS])
        if gram in seen and seen[gram] + LOOP_WORDS <= i:
            return i
        seen.setdefault(gram, i)
    return None


def _compression(text: str) -> float:
    """Whisper's repetition measure: how well the text compresses (long loops compress very well)."""
    data = text.encode("utf-8")
    return len(data) / len(zlib.compress(data)) if data else 0.0
