"""`assistant ask` speaking: say each answer in turn, or write them all into one WAV file."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.speech import synth
from assistant.speech.speaker import Speaker

PAUSE_BETWEEN_ANSWERS = 0.6  # seconds of silence between answers in a saved WAV


def speak_answers(texts: Iterable[str], settings: Settings, save_to: str | Path | None = None) -> None:
    """Speak the answers with the rate, volume and voice in `settings`; with save_to, write them instead.

    Speaking never fails the command (the answers are already printed; device trouble is one warning).
    Saving is what was asked for, so a failure there is reported and ends the program with status 1.
    """
    answers = [t for t in texts if t and t.strip()]
    if save_to is not None:
        _save(answers, settings, Path(save_to))
        return
    if not answers:
        return
    speaker = Speaker(settings)
    try:
        for text in answers:
            speaker.speak(text, block=True)
    finally:
        speaker.stop()


def _save(answers: list[str], settings: Settings, path: Path) -> None:
    speaker = Speaker(settings, warm_up=False)
    pause = np.zeros(int(PAUSE_BETWEEN_ANSWERS * synth.SAMPLE_RATE), dtype=np.int16)
    try:
        pieces: list[np.ndarray] = []
        for i, text in enumerate(answers):
            if i:
                pieces.append(pause)
            pieces.append(speaker.render(text))
        audio = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)
        synth.write_wav(path, audio)
    except synth.SpeechError as exc:
        print(f"assistant: cannot save the spoken answer to {path}: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
    except OSError as exc:
        print(f"assistant: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
        raise SystemExit(1) from exc
