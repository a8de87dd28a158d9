"""Spoken questions for measuring hearing: bench/data/dev_utterances.yaml said aloud, plain and degraded.

Two parts that never mix:
- "dev": the even-numbered utterances, in the voices the tests use (tests/speech_voices.TEST_VOICES).
  The recognizer's constants were chosen on this part only.
- "heldout": the odd-numbered utterances, in voices nothing else uses (HELD_OUT_VOICES), with other
  random details in the degradations. Only reported, never tuned on.
Each utterance is one plain clip and one degraded clip (slow, noisy, reverberant, quiet or paused in
turn, tests/degrade.py). Clips are cached in the user cache folder, keyed by their recipe and the code that
makes them.
"""

from __future__ import annotations

import hashlib
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the synthetic voices and degradations live beside the tests

from degrade import DEGRADATIONS, degrade  # noqa: E402
from speech_voices import HELD_OUT_VOICES, TEST_VOICES, speak  # noqa: E402

SPLITS = {"dev": (0, TEST_VOICES, 1000), "heldout": (1, HELD_OUT_VOICES, 2000)}  # parity, voices, seed base


@dataclass(frozen=True)
class Clip:
    text: str
    voice: str
    how: str  # "plain" or a degradation
    expect: dict[str, str | None]
    audio: np.ndarray = field(repr=False, compare=False)


def _cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ot-pt-assistant")) / "bench-clips"


def utterances(parity: int) -> list[dict[str, Any]]:
    entries = yaml.safe_load((REPO / "bench" / "data" / "dev_utterances.yaml").read_text())
    return [e for i, e in enumerate(entries) if i % 2 == parity]


def _recipe_code() -> str:
    """The code that makes a clip: a change to it makes new clips (the cache outlives a bench run)."""
    return "".join((REPO / "tests" / name).read_text() for name in ("speech_voices.py", "degrade.py"))


def _clip_audio(text: str, voice: str, how: str, seed: int) -> np.ndarray:
    key = hashlib.sha256(f"{text}|{voice}|{how}|{seed}|v2|{_recipe_code()}".encode()).hexdigest()[:20]
    path = _cache_dir() / f"{key}.npy"
    if path.is_file():
        return np.load(path)
    # half a second of room before and after, as the segmenter hands an utterance over
    speech = speak(text, voice)
    padded = np.concatenate([np.zeros(8000, np.int16), speech, np.zeros(8000, np.int16)])
    audio = degrade(padded, how, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, audio)
    return audio


def clips(split: str) -> list[Clip]:
    parity, voices, seed = SPLITS[split]
    result = []
    for i, entry in enumerate(utterances(parity)):
        expect = {k: entry.get(k) for k in ("kind", "topic", "disposition", "command")}
        voice = voices[i % len(voices)]
        how = DEGRADATIONS[i % len(DEGRADATIONS)]
        for variant in ("plain", how):
            result.append(Clip(entry["text"], voice, variant, expect,
                               _clip_audio(entry["text"], voice, variant, seed + i)))
    return result


@dataclass
class Score:
    right: int = 0
    total: int = 0
    emergencies: int = 0
    caught: int = 0
    false_emergencies: int = 0

    def line(self) -> str:
        return (f"{self.right}/{self.total} right ({100 * self.right / max(1, self.total):.1f}%), emergencies "
                f"{self.caught}/{self.emergencies}, false emergencies {self.false_emergencies}")


def evaluate(recognizer, understander, chosen: list[Clip], show_misses: int = 0) -> dict[str, Any]:
    """Decisions on every clip, scored plain / degraded, with the decode CPU and wall time per clip."""
    from assistant.recognition.reading import decide
    from bench import run_cache

    scores = {"plain": Score(), "degraded": Score()}
    cpu: list[float] = []
    wall: list[float] = []
    misses: list[str] = []
    second_passes = 0
    for clip in chosen:
        decoded = run_cache.decode(recognizer, clip.audio)  # decoded once per bench run, its times kept
        transcript = decoded.transcript
        cpu.append(decoded.cpu)
        wall.append(decoded.wall)
        second_passes += getattr(recognizer, "last_passes", 1) == 2
        decision = decide(transcript, understander, source=clip.voice)
        got = {"kind": decision.kind, "topic": decision.topic, "disposition": decision.disposition,
               "command": decision.command}
        score = scores["plain" if clip.how == "plain" else "degraded"]
        score.total += 1
        score.right += got == clip.expect
        if clip.expect["disposition"] == "emergency":
            score.emergencies += 1
            score.caught += decision.is_emergency
        elif decision.is_emergency:
            score.false_emergencies += 1
        if got != clip.expect and len(misses) < show_misses:
            misses.append(f"{clip.voice}/{clip.how}: {clip.text!r} -> {transcript.text!r} "
                          f"({decision.kind} {decision.topic or decision.disposition or decision.command})")
    return {"scores": scores, "cpu_median": statistics.median(cpu), "cpu_p90": _p90(cpu),
            "wall_median": statistics.median(wall), "misses": misses, "second_passes": second_passes}


def _p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * (len(values) - 1))]
