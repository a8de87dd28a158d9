"""Speech recognition: a small protocol (base.Recognizer) and two engines, chosen by Settings.engine.

    recognizer = open_recognizer(settings, content)          # auto: Vosk when a model is installed
    transcript = recognizer.transcribe(samples)              # int16 mono at recognizer.sample_rate

- "vosk": a Vosk model from --model / the config file, $VOSK_MODEL_PATH, or models/ (`assistant model install`).
- "pocketsphinx": the US English model bundled in the pocketsphinx wheel, with a domain language model and
  trimmed dictionary generated from the content (cached; see sphinx.py).
- "auto" (default): Vosk when a model is found, else PocketSphinx.
Engines are imported only when opened: importing this package loads neither.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.recognition.base import Recognizer, RecognizerError, Transcript, Word

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.core.content import Content

__all__ = ["ENGINES", "Recognizer", "RecognizerError", "Transcript", "Word", "choose_engine", "open_recognizer"]

ENGINES = ("auto", "vosk", "pocketsphinx")
log = logging.getLogger(__name__)


WAKE_PHRASE_WEIGHT = 20  # the wake phrase alone counts as this many phrases: it opens most conversations


def with_wake_phrase(wake_phrase: str | None, phrases: Iterable[str]) -> list[str]:
    """Phrases that teach the language model the wake phrase where people say it: on its own, and in front
    of a question ("hey coach what is o t"). Only in the model as a phrase of its own, it was heard as "the
    copes" in 1 of 4 runs of the wake-phrase test; this way the words after it also predict it."""
    if not wake_phrase or not wake_phrase.strip():
        return []
    return [wake_phrase] * WAKE_PHRASE_WEIGHT + [f"{wake_phrase} {phrase}" for phrase in phrases]


def choose_engine(settings: Settings, models_dir: Path | None = None) -> tuple[str, Path | None]:
    """("vosk", model folder) or ("pocketsphinx", None), following settings.engine."""
    from assistant.config import DEFAULT_MODELS_DIR
    from assistant.recognition.models import find_vosk_model

    engine = (settings.engine or "auto").lower()
    if engine not in ENGINES:
        raise RecognizerError(f"unknown speech engine '{settings.engine}': use one of {', '.join(ENGINES)}")
    if engine == "pocketsphinx":
        return "pocketsphinx", None
    model = find_vosk_model(settings, models_dir or DEFAULT_MODELS_DIR)
    if model is not None:
        return "vosk", model
    if engine == "vosk":
        raise RecognizerError(f"no Vosk model installed in {models_dir or DEFAULT_MODELS_DIR}: run `assistant model "
                              "install` (or give --model PATH), or use --engine pocketsphinx")
    return "pocketsphinx", None


def open_recognizer(settings: Settings, content: Content | None = None, extra_phrases: Iterable[str] = (),
                    phrases: Iterable[str] | None = None, announce: bool = False,
                    cache_dir: Path | None = None, models_dir: Path | None = None,
                    wake_phrase: str | None = None) -> Recognizer:
    """The recognizer the settings ask for, biased to the content's phrases (plus `extra_phrases`).
    `wake_phrase` is expected alone and at the start of anything else. `announce` prints one line on
    stderr saying which engine and model are in use."""
    from assistant.recognition.vocabulary import content_phrases

    if phrases is None:
        if content is None:
            raise ValueError("open_recognizer needs the content or a list of phrases")
        phrases = content_phrases(content)
    vocabulary = [*phrases, *(p for p in extra_phrases if p), *with_wake_phrase(wake_phrase, phrases)]
    engine, model = choose_engine(settings, models_dir)
    recognizer: Recognizer
    if engine == "vosk":
        from assistant.recognition.vosk_engine import VoskRecognizer

        recognizer = VoskRecognizer(model, vocabulary)  # type: ignore[arg-type]
    else:
        from assistant.recognition.sphinx import PocketSphinxRecognizer

        recognizer = PocketSphinxRecognizer(vocabulary, cache_dir=cache_dir)
    if announce:
        print(f"assistant: speech recognizer: {recognizer.description}", file=sys.stderr, flush=True)
    log.info("speech recognizer: %s", recognizer.description)
    return recognizer
