"""PocketSphinx with the US English acoustic model bundled in the `pocketsphinx` wheel, biased to the domain.

At start a domain model is built from the content phrases (or taken from the cache, keyed by a hash of
the phrases): a trigram language model over the phrases plus a low-weight background of the commonest
English words, and a dictionary trimmed to exactly those words (loading the full 130k-word dictionary
takes seconds; the trimmed one a few milliseconds). Measured here (bench/recognition.py): the domain
model decodes the assistant's questions far better and several times faster than the general model.

Out-of-domain speech: the background words let "play some music" come out as those words rather than
as domain phrases, and two signals mark a transcript as not in the domain (Transcript.in_domain):
- background words in the transcript (words the content never uses);
- a poor acoustic fit: the best path's score per frame (pocketsphinx normalizes scores per frame against
  the best state alive, so a path forced through the wrong words falls far behind) below MIN_FIT.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.recognition.base import RecognizerError, StreamingRecognizer, Transcript, Word, as_int16
from assistant.recognition.lm import write_arpa
from assistant.recognition.pronounce import inflections, load_dictionary, pronounce, write_dictionary
from assistant.recognition.vocabulary import fingerprint, sentences, spoken_words

log = logging.getLogger(__name__)

MODEL_VERSION = "5"  # bump when the way the domain model is built changes: old caches are then rebuilt
# Measured on a dev set (86 sentences of bench/data/dev_utterances.yaml incl. all 36 emergencies, 6 voices
# the tests and the bench never use; correct decisions / emergencies caught / false emergencies):
# these values 376/516, 162/216, 3. 500 background words 367, 163, 5; mass 0.03: 375, 162, 3.
BACKGROUND_WORDS = 2000  # commonest English words kept as a way out for out-of-domain speech
BACKGROUND_MASS = 0.1  # their share of the unigram probability
MAX_BACKGROUND_SHARE = 0.0  # in-domain transcripts contain no background word at all ...
MIN_FIT = -50.0  # ... and the best path scores at least this per frame (log base 1.0001)
DITHER_RMS = 100.0  # noise floor (about -50 dBFS) for silent input, see _Dither (dev: 40 -> 368/516, 300 -> 321)
SAMPLE_RATE = 16000  # the bundled acoustic model's rate
WARM_UP_SECONDS = 0.3  # noise floor that primes the features before a streamed utterance, see _prime
FRAME_RATE = 100  # pocketsphinx frames per second
SEARCH_BLOCK = SAMPLE_RATE // 10  # samples per call into the search (it holds the GIL for the call)
# Decoder options: the defaults of pocketsphinx 5 (three passes). Every faster or retuned setting measured on
# the dev set above lost accuracy or changed nothing (correct decisions of 516, emergencies of 216, false
# emergencies, CPU real-time factor with two decodes at once; defaults: 376, 162, 3, 0.26):
#   fwdflat=False 370, 160, 6, 0.155 | + topn=2 358, 156, 9, 0.137 | + beam=1e-40, wbeam=1e-24 349, 150, 8, 0.134
#   lw=9 368, 159, 3 | lw=5 373, 162, 4 | wip=0.2 376, 161, 3 | silprob=0.1 378, 162, 3 | remove_noise=False same
# (ds=2 changed 21 of 44 transcripts; maxhmmpf, maxwpf, pl_window barely change the time: the Gaussians dominate.)
# Spotting the 205 red-flag phrases with a keyword search beside the main one (kws): +8 emergencies caught of
# 216 for +5 false ones of 300 at threshold 1e-3, +25 for +63 at 1e-20 ("slurring" everywhere): not adopted.
DECODER_OPTIONS: dict[str, object] = {}
_KEEP_CACHES = 8
_WORD = re.compile(r"^[a-z]+(?:'[a-z]+)?$")


def model_path(*parts: str) -> str:
    from pocketsphinx import get_model_path

    return str(Path(get_model_path()).joinpath(*parts))


def default_cache_dir() -> Path:
    import platformdirs

    from assistant.config import APP_NAME

    return Path(platformdirs.user_cache_dir(APP_NAME)) / "recognition"


@dataclass(frozen=True)
class DomainModel:
    folder: Path
    domain_words: frozenset[str]
    background_words: frozenset[str]  # in the vocabulary only as a way out; not domain words
    missing: tuple[str, ...]  # domain words nothing could pronounce (left out)
    built: bool  # True when built now, False when it came from the cache
    seconds: float  # time to build or load it

    @property
    def lm(self) -> Path:
        return self.folder / "domain.lm"

    @property
    def dictionary(self) -> Path:
        return self.folder / "domain.dict"


def _background_words(count: int) -> dict[str, float]:
    """The `count` commonest words of the general model (unigram probabilities), with pronunciations."""
    if count <= 0:
        return {}
    from pocketsphinx import Config, LogMath, NGramModel

    logmath = LogMath()
    general = NGramModel(Config(), logmath, model_path("en-us", "en-us.lm.bin"))
    words = load_dictionary(Path(model_path("en-us", "cmudict-en-us.dict")))
    scores = {w: general.prob([w]) for w in words if _WORD.match(w)}
    best = sorted(scores, key=lambda w: (-scores[w], w))[:count]
    return {w: logmath.exp(scores[w]) for w in best}


def _build(phrases: list[str], words: list[str], folder: Path) -> tuple[frozenset[str], frozenset[str],
                                                                         tuple[str, ...]]:
    domain = sentences(phrases)
    if not domain:
        raise RecognizerError("the content has no phrases to build the recognizer's vocabulary from")
    loose = {w for text in words for w in spoken_words(text)}
    domain_words = {w for s in domain for w in s} | loose
    background = _background_words(BACKGROUND_WORDS)
    dictionary = load_dictionary(Path(model_path("en-us", "cmudict-en-us.dict")))
    variants = inflections(domain_words, dictionary)
    prons, missing = pronounce(domain_words, dictionary)
    for word in variants | set(background):
        if word not in prons and word in dictionary:
            prons[word] = dictionary[word]
    if missing:  # a word nobody can pronounce cannot be in the model: split its phrases there instead
        kept: list[list[str]] = []
        for sentence in domain:
            part: list[str] = []
            for word in sentence:
                if word in prons:
                    part.append(word)
                elif part:
                    kept.append(part)
                    part = []
            if part:
                kept.append(part)
        domain = kept
    write_arpa(domain, folder / "domain.lm", background=background, background_mass=BACKGROUND_MASS,
               extra_words=sorted((variants | loose) - set(missing)))
    write_dictionary(prons, folder / "domain.dict")
    known = frozenset((domain_words | variants) - set(missing))
    return known, frozenset(set(background) - known), tuple(missing)


def domain_model(phrases: list[str], cache_dir: Path | None = None, words: list[str] | None = None) -> DomainModel:
    """The domain model for these phrases (and loose `words`, known but never a sentence on their own):
    from the cache when they are unchanged, else built."""
    started = time.perf_counter()
    words = list(words or [])
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    key = fingerprint(phrases, MODEL_VERSION, str(BACKGROUND_WORDS), str(BACKGROUND_MASS), *sorted(set(words)))[:20]
    folder = cache_dir / f"pocketsphinx-{key}"
    cached = _cached(folder, started, log_unreadable=True)
    if cached is not None:
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cache_dir))
    try:
        domain_words, background_words, missing = _build(phrases, words, building)
        (building / "info.json").write_text(json.dumps({
            "domain_words": sorted(domain_words), "background_words": sorted(background_words),
            "missing": list(missing), "phrases": len(phrases), "version": MODEL_VERSION,
        }), encoding="utf-8")
        theirs = _cached(folder, started)
        if theirs is not None:  # another process built it meanwhile: use that one, and never delete a model
            return theirs       # someone may be loading (two processes on an empty cache failed to start)
        if folder.exists():  # an unreadable or half-written older copy
            shutil.rmtree(folder, ignore_errors=True)
        try:
            building.rename(folder)  # atomic: another process never sees a half-built model
        except OSError:
            if not (folder / "info.json").exists():
                raise
    finally:
        shutil.rmtree(building, ignore_errors=True)
    _prune(cache_dir, keep=folder)
    return DomainModel(folder, domain_words, background_words, missing, True, time.perf_counter() - started)


def _cached(folder: Path, started: float, log_unreadable: bool = False) -> DomainModel | None:
    """The complete model in `folder`, or None (missing, half-written or unreadable)."""
    info_path = folder / "info.json"
    if not info_path.exists():
        return None
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
        if (folder / "domain.lm").exists() and (folder / "domain.dict").exists():
            os.utime(folder)  # recently used: kept when old caches are pruned
            return DomainModel(folder, frozenset(info["domain_words"]), frozenset(info["background_words"]),
                               tuple(info["missing"]), False, time.perf_counter() - started)
    except (OSError, ValueError, KeyError) as exc:
        if log_unreadable:
            log.info("rebuilding the recognizer's domain model: the cached one is unreadable (%s)", exc)
    return None


def _prune(cache_dir: Path, keep: Path) -> None:
    """Old domain models (content since edited) are removed; the most recent few stay."""
    olds = sorted((p for p in cache_dir.glob("pocketsphinx-*") if p != keep and p.is_dir()),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in olds[_KEEP_CACHES - 1:]:
        shutil.rmtree(old, ignore_errors=True)


class _Dither:
    """Adds a faint noise floor where the input has none.

    Perfect digital silence (synthetic speech, a muted or virtual microphone) gives the feature extraction
    log-energies it never saw in training, and recognition suffers badly (measured: word error rate 0.54
    without, 0.15 with a -50 dBFS floor on espeak-ng speech). A real microphone's own noise is already at
    or above that floor, and then nothing is added. Seeded per utterance, so results are reproducible."""

    FRAME = 160

    def __init__(self, rms: float) -> None:
        self.rms = rms
        self.reset()

    def reset(self) -> None:
        self._rng = np.random.default_rng(0)
        self._floor = float("inf")

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        if self.rms <= 0 or samples.size == 0:
            return samples
        frames = samples.size // self.FRAME
        if frames:
            blocks = samples[: frames * self.FRAME].astype(np.float64).reshape(frames, self.FRAME)
            self._floor = min(self._floor, float(np.sqrt(np.mean(blocks**2, axis=1)).min()))
        floor = 0.0 if self._floor == float("inf") else self._floor
        sigma = float(np.sqrt(max(0.0, self.rms**2 - floor**2)))
        if sigma < 1.0:
            return samples
        noisy = samples.astype(np.float64) + self._rng.normal(0.0, sigma, samples.size)
        return np.clip(np.round(noisy), -32768, 32767).astype(np.int16)


class PocketSphinxRecognizer(StreamingRecognizer):
    name = "pocketsphinx"
    sample_rate = SAMPLE_RATE

    def __init__(self, phrases: list[str], cache_dir: Path | None = None, general: bool = False,
                 options: dict[str, object] | None = None, words: list[str] | None = None) -> None:
        """`general=True` uses the bundled general English model instead (for comparison in the bench)."""
        try:
            from pocketsphinx import Decoder
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise RecognizerError("the pocketsphinx package is missing: run `make install`") from exc
        started = time.perf_counter()
        self.general = general
        if general:
            self.model = None
            lm, dictionary = model_path("en-us", "en-us.lm.bin"), model_path("en-us", "cmudict-en-us.dict")
            self.description = "PocketSphinx, bundled US English model with its general vocabulary"
        else:
            self.model = domain_model(phrases, cache_dir, words)
            lm, dictionary = str(self.model.lm), str(self.model.dictionary)
            self.description = (f"PocketSphinx, bundled US English model, domain vocabulary of "
                                f"{len(self.model.domain_words)} words")
        settings = {**DECODER_OPTIONS, **(options or {})}
        self._decoder = Decoder(hmm=model_path("en-us", "en-us"), lm=lm, dict=dictionary, loglevel="ERROR",
                                samprate=float(self.sample_rate), **settings)
        self._logmath = self._decoder.get_logmath()
        # Computes the cepstral mean for _prime: the same front end, but its search spots one keyword, so
        # the pass costs a fraction of a full decode.
        self._features = Decoder(hmm=model_path("en-us", "en-us"), dict=dictionary, loglevel="ERROR",
                                 samprate=float(self.sample_rate), keyphrase=_first_word(dictionary),
                                 kws_threshold=1e-30)
        self._dither = _Dither(DITHER_RMS)
        self._warm_up_noise = _Dither(DITHER_RMS)(np.zeros(int(WARM_UP_SECONDS * SAMPLE_RATE), np.int16)).tobytes()
        self._in_utterance = False
        self._samples = 0
        self._streamed: list[np.ndarray] = []  # this utterance's audio, for the final full-utterance pass
        self.load_seconds = time.perf_counter() - started

    # -- streaming --------------------------------------------------------------------------------------

    def reset(self) -> None:
        if self._in_utterance:
            self._decoder.end_utt()
        self._in_utterance = False
        self._samples = 0
        self._streamed = []
        self._dither.reset()

    def accept(self, samples: np.ndarray) -> bool:
        samples = as_int16(samples)
        if not self._in_utterance:
            self._prime(self._warm_up_noise)
            self._decoder.start_utt()
            self._in_utterance = True
        self._decoder.process_raw(self._dither(samples).tobytes(), False, False)
        self._samples += samples.size
        self._streamed.append(samples)
        return False

    def partial(self) -> str:
        if not self._in_utterance:
            return ""
        hyp = self._decoder.hyp()
        return hyp.hypstr if hyp else ""

    def final(self) -> Transcript:
        """After streaming, the utterance is decoded once more as a whole: the partials come from live
        feature normalization, the final from normalization over the whole utterance (measurably more
        accurate: "...therapist you" live, "...therapist do" whole)."""
        if not self._in_utterance:
            return Transcript.empty()
        streamed = self._streamed
        self._decoder.end_utt()
        self._in_utterance = False
        return self.transcribe(np.concatenate(streamed))

    def transcribe(self, samples: np.ndarray) -> Transcript:
        """One whole utterance at once: the features are normalized over all of it (more accurate).

        The search is fed a tenth of a second at a time: pocketsphinx holds the GIL inside each call, and a
        whole utterance in one call (half a second of CPU) would stall the microphone and the speaker when
        this runs in a background thread (see assistant/speculation.py). Measured on 102 clips: the same
        words as one call for 95, and differences either way for the rest. (The keyword pass of _prime is
        still one call, a fifth of the work: fed in blocks, its mean is not the whole utterance's.)"""
        samples = as_int16(samples)
        self.reset()
        audio = self._dither(samples)
        self._prime(audio.tobytes())
        self._decoder.start_utt()
        self._in_utterance = True
        for start in range(0, audio.size, SEARCH_BLOCK):
            self._decoder.process_raw(audio[start:start + SEARCH_BLOCK].tobytes(), False, False)
        self._samples = samples.size
        self._decoder.end_utt()
        self._in_utterance = False
        try:
            return self._transcript()
        finally:
            self._samples = 0
            self._dither.reset()

    def _prime(self, audio: bytes) -> None:
        """Reset the feature extraction and start it with the cepstral mean of `audio`.

        The noise and cepstral-mean estimates otherwise carry over from the previous utterance, so the same
        audio decoded differently depending on what came before. Priming with the utterance itself makes
        every result reproducible and is the most accurate start measured (50 of 63 held-out sentences, as
        with a warm carry-over; a fresh state without priming: 48). A streamed utterance is not known yet:
        it is primed with a moment of the faint noise floor, and re-decoded whole in final() anyway.
        The mean comes from the keyword-spotting decoder: priming through the main decoder searched the
        whole utterance once more at end_utt() (measured: 0.36 s of a 0.74 s transcribe). This way, on 336
        clips (4 voices, bench questions and content test sentences): 236 right decisions instead of 235,
        in 124 s of CPU instead of 191."""
        features = self._features
        features.reinit_feat()
        features.start_utt()
        features.process_raw(audio, True, True)
        mean = features.get_cmn(True)
        features.end_utt()
        self._decoder.reinit_feat()
        self._decoder.set_cmn(mean)

    # -- result -------------------------------------------------------------------------------------------

    def _transcript(self) -> Transcript:
        hyp = self._decoder.hyp()
        if hyp is None or not hyp.hypstr.strip():
            return Transcript.empty()
        words = tuple(
            Word(_base(seg.word), seg.start_frame / FRAME_RATE, (seg.end_frame + 1) / FRAME_RATE,
                 float(min(1.0, max(0.0, seg.prob))))
            for seg in self._decoder.seg() if _is_word(seg.word)
        )
        if not words:
            return Transcript.empty()
        text = " ".join(w.text for w in words)
        confidence = float(np.mean([w.confidence for w in words]))
        return Transcript(text=text, confidence=confidence, in_domain=self._in_domain(words, hyp), words=words)

    def fit(self) -> float:
        """The last utterance's best path score per frame (0 is a perfect fit; see MIN_FIT)."""
        hyp = self._decoder.hyp()
        frames = max(1, self._decoder.n_frames())
        if hyp is None or hyp.best_score <= 0:
            return -1e9
        return self._logmath.log(hyp.best_score) / frames

    def _in_domain(self, words: tuple[Word, ...], hyp: object) -> bool:
        if self.model is None:  # the general model has no domain to be in
            return True
        outside = sum(w.text not in self.model.domain_words for w in words)
        return outside / len(words) <= MAX_BACKGROUND_SHARE and self.fit() >= MIN_FIT


def _first_word(dictionary: str) -> str:
    with open(dictionary, encoding="utf-8") as lines:
        return _base(lines.readline().split()[0])


def _base(word: str) -> str:
    return re.sub(r"\(\d+\)$", "", word)


def _is_word(word: str) -> bool:
    return not (word.startswith(("<", "[", "+")) or word in ("<sil>", "<s>", "</s>"))
