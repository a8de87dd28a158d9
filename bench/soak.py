"""Soak: many turns through the real path in one process, watching for leaks.

Each turn: a pre-synthesized spoken question (espeak-ng, 16 kHz) -> the recognizer the settings choose
(the built-in Whisper model when no Vosk model is installed, via open_recognizer) -> Dialog ->
the whole spoken reply synthesized with real espeak-ng (Speaker.render: the same sentence chunks and
synthesis speak() plays; nothing is played, so no sound device is needed).

Resources are read from /proc: RSS (VmRSS) every 100 turns, threads (Python's and the kernel's task
count), open file descriptors (/proc/self/fd), child processes (/proc/self/task/*/children) and entries
in tempfile.gettempdir(), which the soak points at a private empty folder (synth.py makes an
"assistant-tts-*" folder per utterance there; any leftover, whatever its name, is counted).
The baseline is taken after one warm-up cycle of the questions (first use loads espeak-ng voices and
the recognizer's search buffers once).

    python -m bench.soak [--turns N]
Targets: no crash; RSS growth at most a few MB; threads, fds, child processes and temp files back to the
baseline. tests/test_soak.py runs ~60 turns of the same soak in `make test`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
# (what is said, the decision kind its reply must have). The order keeps the dialog states meaningful:
# "more" and "repeat" follow a topic. (espeak-ng's "tell me more" is heard as "do me more", so
# another wording of the same command is used.)
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("what is physical therapy", "topic"),
    ("keep going", "command"),
    ("what is occupational therapy", "topic"),
    ("repeat that", "command"),
    ("i think i am having a stroke", "triage"),
    ("what are the goals of physical therapy", "topic"),
    ("where do physical therapists work", "topic"),
)
SAMPLE_EVERY = 100
RSS_TARGET_MB = 5.0


@dataclass(frozen=True)
class Resources:
    rss_mb: float
    python_threads: int
    os_threads: int
    fds: int
    children: int
    temp_files: int


@dataclass
class SoakResult:
    turns: int
    seconds: float
    start: Resources  # after the warm-up cycle
    end: Resources
    rss_samples: list[tuple[int, float]] = field(default_factory=list)  # (turn, MB)
    wrong: list[tuple[int, str, str, str]] = field(default_factory=list)  # (turn, said, heard, kind)

    @property
    def rss_growth_mb(self) -> float:
        return self.end.rss_mb - self.start.rss_mb

    def leaks(self) -> dict[str, int]:
        """Resources above their baseline at the end (empty: nothing leaked)."""
        names = ("python_threads", "os_threads", "fds", "children", "temp_files")
        return {n: getattr(self.end, n) - getattr(self.start, n) for n in names
                if getattr(self.end, n) > getattr(self.start, n)}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def _children() -> int:
    total = 0
    for task in Path("/proc/self/task").iterdir():
        try:
            total += len((task / "children").read_text().split())
        except OSError:  # the thread ended while we looked
            pass
    return total


def _temp_files() -> int:
    return len(os.listdir(tempfile.gettempdir()))  # soak() makes this a private folder


def resources() -> Resources:
    return Resources(rss_mb=_rss_mb(), python_threads=threading.active_count(),
                     os_threads=len(os.listdir("/proc/self/task")), fds=len(os.listdir("/proc/self/fd")),
                     children=_children(), temp_files=_temp_files())


def spoken_questions() -> list[np.ndarray]:
    """Each question said by espeak-ng, int16 mono at 16 kHz (synthesized once, before the soak)."""
    sys.path.insert(0, str(REPO / "tests"))
    from speech_voices import speak  # the recognition tests' synthetic speakers

    return [speak(text, "espeak:en-us") for text, _ in QUESTIONS]


def soak(turns: int, progress: Callable[[int, Resources], None] | None = None) -> SoakResult:
    """Run the soak with tempfile pointed at a private, empty folder: other programs sharing /tmp cannot
    change the temp-file count, and anything the speech path leaves behind is counted, whatever its name."""
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="soak-") as private:
        tempfile.tempdir = private
        try:
            return _soak(turns, progress)
        finally:
            tempfile.tempdir = saved


def _soak(turns: int, progress: Callable[[int, Resources], None] | None) -> SoakResult:
    import gc

    from assistant.config import DEFAULT_CONTENT_DIR, Settings
    from assistant.core.dialog import Dialog
    from assistant.core.loader import load_content
    from assistant.core.understanding import Understander
    from assistant.recognition import open_recognizer
    from assistant.speech.speaker import Speaker

    settings = Settings()  # defaults: the bundled content, the engine "auto" picks
    content = load_content(DEFAULT_CONTENT_DIR)
    audio = spoken_questions()
    recognizer = open_recognizer(settings, content)
    dialog = Dialog(Understander(content, emergency_number=settings.emergency_number),
                    rate=settings.rate, volume=settings.volume)
    speaker = Speaker(settings)  # warms up espeak-ng; render() never opens a sound device
    wrong: list[tuple[int, str, str, str]] = []

    def turn(i: int) -> None:
        said, kind = QUESTIONS[i % len(QUESTIONS)]
        text = recognizer.transcribe(audio[i % len(QUESTIONS)]).text
        reply = dialog.handle(text)
        if reply.decision.kind != kind:
            wrong.append((i, said, text, reply.decision.kind))
        if reply.text:
            speaker.render(reply.text)

    for i in range(len(QUESTIONS)):  # warm-up cycle, not counted
        turn(i)
    wrong.clear()
    gc.collect()
    start = resources()
    samples = [(0, start.rss_mb)]
    began = time.perf_counter()
    for i in range(turns):
        turn(i)
        if (i + 1) % SAMPLE_EVERY == 0 or i + 1 == turns:
            now = resources()
            samples.append((i + 1, now.rss_mb))
            if progress:
                progress(i + 1, now)
    seconds = time.perf_counter() - began
    gc.collect()
    return SoakResult(turns=turns, seconds=seconds, start=start, end=resources(), rss_samples=samples,
                      wrong=wrong)


def main(turns: int = 1000) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=turns)
    turns = parser.parse_args().turns
    print(f"soak: {turns} turns (recognize -> dialog -> synthesize), questions cycled: {len(QUESTIONS)}",
          flush=True)

    def progress(done: int, now: Resources) -> None:
        print(f"  turn {done:>5}  RSS {now.rss_mb:7.1f} MB  threads {now.python_threads}/{now.os_threads}  "
              f"fds {now.fds}  children {now.children}  temp {now.temp_files}", flush=True)

    result = soak(turns, progress)
    s, e = result.start, result.end
    print(f"{'':<22}{'start':>10}{'end':>10}")
    for name, a, b in (("RSS MB", f"{s.rss_mb:.1f}", f"{e.rss_mb:.1f}"),
                       ("threads (python)", s.python_threads, e.python_threads),
                       ("threads (os)", s.os_threads, e.os_threads), ("open fds", s.fds, e.fds),
                       ("child processes", s.children, e.children), ("temp files", s.temp_files, e.temp_files)):
        print(f"  {name:<20}{a:>10}{b:>10}")
    print(f"  RSS growth {result.rss_growth_mb:+.1f} MB (target at most ~{RSS_TARGET_MB:.0f} MB); "
          f"leaks: {result.leaks() or 'none'}; wrong decisions: {len(result.wrong)}; "
          f"{result.seconds:.0f} s ({1000 * result.seconds / max(1, turns):.0f} ms per turn)")
    return {
        "turns": turns,
        "crashed": False,
        "seconds": round(result.seconds, 1),
        "ms_per_turn": round(1000 * result.seconds / max(1, turns), 1),
        "rss_start_mb": round(s.rss_mb, 1),
        "rss_end_mb": round(e.rss_mb, 1),
        "rss_growth_mb": round(result.rss_growth_mb, 2),
        "rss_max_mb": round(max(mb for _, mb in result.rss_samples), 1),
        "leaks": result.leaks() or "none",
        "wrong_decisions": len(result.wrong),
    }


if __name__ == "__main__":
    main()
