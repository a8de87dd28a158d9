"""Speaking benchmark: reply text -> first audio sample, and stop -> silence.

Targets: first audio at most 150 ms after the reply text is known, whatever its length;
stop to silence at most 200 ms.

Runs on a private virtual PulseAudio speaker (tests/virtual_audio.py) so `make bench` is silent and
repeatable; `python -m bench.speech --real-device` uses the configured output device instead.

Figures (milliseconds, median and worst of the runs):
- synth_sentence: espeak-ng synthesis of one sentence through pyttsx3 (fresh engine state).
- first_stream: reply text -> first answer sample handed to the output stream (PortAudio callback).
- first_speaker: reply text -> when PortAudio expects that sample at the speaker (callback time plus the
  buffered output ahead of it, incl. the 50 ms lead-in silence that keeps the stream start unclipped).
  This is the figure the 150 ms target applies to.
- whole_answer_ratio: first_speaker when the whole answer is synthesized before playing, divided by the
  sentence-streamed figure, for the long answer (why answers are streamed sentence by sentence).
- stop_callback: stop() -> the stream callback outputs silence.
- stop_heard: stop() -> silence in the recording of the virtual speaker (audio heard after stop, aligned
  on the speech onset; includes the sound server's buffering). The 200 ms target applies to this one.

Glitches under load (counts, target 0), virtual speaker only: 20 answers played while
faster-whisper decodes and a numpy thread runs in this process, as while the hands-free loop listens
during an answer (tests/playback_glitches.py). `underruns`: callbacks PortAudio flagged late (alsa-lib's
"underrun occurred"); `gaps`: places where the recording of the speaker departs from what was sent
(silence inserted or audio lost). Also measured with the earlier 100 ms output buffer
(`..._100ms_buffer`, same load, same run), for comparison.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHORT = "Occupational therapy helps people do the everyday activities that matter to them."
LONG = " ".join([
    "Occupational therapy helps people do the everyday activities that matter to them, from getting "
    "dressed and cooking a meal to going back to work.",
    "It looks at self-care, work and play, and adapts the task, the tools or the home so you can do it "
    "again.",
    "Physical therapy, by contrast, helps you move better: strength, balance, walking and pain.",
] * 5)  # about 45 s of speech
FIRST_AUDIO_TARGET_MS = 150.0
STOP_TARGET_MS = 200.0
OLD_LATENCY_SECONDS = 0.1  # the earlier output buffer, for the glitch comparison
RECORD_RATE = 16000


def _ms(seconds: float) -> float:
    return round(1000.0 * seconds, 1)


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": round(statistics.median(values), 1), "max": round(max(values), 1), "runs": len(values)}


def _virtual_audio() -> Any:
    sys.path.insert(0, str(REPO / "tests"))
    from virtual_audio import VirtualAudio  # the test suite's private PulseAudio server

    return VirtualAudio()


def _wait_for_first_sample(speaker: Any, at_least: float, at_most: float = 15.0) -> None:
    """Long enough for the first sample, far shorter than the answers: `at_least`, and on a busy machine (where
    starting the synthesis process alone can take longer) until the first sample is out, up to `at_most`."""
    time.sleep(at_least)
    deadline = time.perf_counter() + at_most
    while time.perf_counter() < deadline:
        playback = getattr(getattr(speaker, "_current", None), "playback", None)
        if getattr(speaker, "_current", None) is None or getattr(playback, "first_sample_at", None) is not None:
            return
        time.sleep(0.05)


def _first_audio(settings: Any, text: str, streaming: bool, runs: int) -> tuple[list[float], list[float]]:
    from assistant.speech.speaker import Speaker

    speaker = Speaker(settings, streaming=streaming)
    stream, heard = [], []
    for _ in range(runs):
        speaker.speak(text, block=False)
        _wait_for_first_sample(speaker, 0.6 if streaming else 3.0)
        speaker.stop()
        timing = speaker.last_timing
        if timing is None or timing.first_sample_at is None or timing.first_sample_dac_at is None:
            raise RuntimeError("no audio reached the output stream; is an output device available?")
        stream.append(_ms(timing.first_sample_at - timing.requested_at))
        heard.append(_ms(timing.first_sample_dac_at - timing.requested_at))
        time.sleep(0.1)
    return stream, heard


def _stop_to_silence(settings: Any, audio: Any, runs: int) -> tuple[list[float], list[float]]:
    from assistant.speech.speaker import Speaker

    speaker = Speaker(settings)
    callback, heard = [], []
    for _ in range(runs):
        recorder = audio.record_speaker() if audio is not None else None
        speaker.speak(LONG, block=False)
        time.sleep(1.2)
        speaker.stop()
        time.sleep(0.6)
        timing = speaker.last_timing
        assert timing is not None and timing.stopped_at is not None
        if timing.silenced_at is not None:
            callback.append(_ms(timing.silenced_at - timing.stopped_at))
        if recorder is not None and timing.first_sample_dac_at is not None:
            recording = recorder.stop().astype(np.float64)
            envelope = np.sqrt(np.convolve(recording ** 2, np.ones(160) / 160, mode="same"))
            loud = np.nonzero(envelope > 300)[0]
            if len(loud):
                heard_for = (loud[-1] - loud[0]) / RECORD_RATE
                played_before_stop = timing.stopped_at - timing.first_sample_dac_at
                heard.append(_ms(max(0.0, heard_for - played_before_stop)))
    return callback, heard


def _glitches_under_load(settings: Any, audio: Any, answers: int, latency: float) -> dict[str, int]:
    """Underruns and gaps over `answers` answers played while the recognizer load runs."""
    sys.path.insert(0, str(REPO / "tests"))
    import soxr
    from playback_glitches import find_glitches, recognizer_load

    from assistant.speech import synth
    from assistant.speech.player import Playback
    from assistant.speech.speaker import Speaker

    sent: list[np.ndarray] = []  # exactly what was fed: espeak-ng's output differs slightly between runs
    feed = Playback.feed

    def spy(self: Any, samples: Any, samplerate: int | None = None) -> None:
        sent.append(np.array(samples, copy=True))
        feed(self, samples, samplerate)

    text = SHORT + " Physical therapy, by contrast, helps you move better: strength, balance and walking."
    speaker = Speaker(settings, latency=latency)
    counts = {"answers": 0, "underruns": 0, "gaps": 0}
    Playback.feed = spy  # type: ignore[method-assign]
    try:
        with recognizer_load() as load:
            for _ in range(answers):
                sent.clear()
                with load.quiet():  # starting parec forks this process
                    recorder = audio.record_speaker()
                speaker.speak(text)
                heard = recorder.stop()
                timing = speaker.last_timing
                reference = soxr.resample(np.concatenate(sent).astype(np.float32), synth.SAMPLE_RATE, RECORD_RATE)
                counts["answers"] += 1
                counts["underruns"] += timing.underruns if timing is not None else 0
                counts["gaps"] += find_glitches(heard, reference, RECORD_RATE).glitches
    finally:
        Playback.feed = feed  # type: ignore[method-assign]
    return counts


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.speech", description=__doc__.splitlines()[0])
    parser.add_argument("--real-device", action="store_true", help="use the configured output device")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--load-answers", type=int, default=20, help="answers played under recognizer load")
    args = parser.parse_args(argv)

    from assistant.config import Settings, load_settings
    from assistant.speech import synth

    settings = load_settings() if args.real_device else Settings()
    audio = None if args.real_device else _virtual_audio()
    figures: dict[str, Any] = {}
    try:
        if audio is not None:
            audio.start()
            audio.activate()
        synth.synthesize("Warm up.")
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            synth.synthesize(SHORT, rate=settings.rate, volume=settings.volume)
            times.append(_ms(time.perf_counter() - start))
        figures["synth_sentence_ms"] = _summary(times)
        for name, text in (("short", SHORT), ("long", LONG)):
            stream, heard = _first_audio(settings, text, streaming=True, runs=args.runs)
            figures[f"first_stream_{name}_ms"] = _summary(stream)
            figures[f"first_speaker_{name}_ms"] = _summary(heard)
        _, whole = _first_audio(settings, LONG, streaming=False, runs=args.runs)
        figures["first_speaker_long_whole_answer_ms"] = _summary(whole)
        figures["whole_answer_ratio"] = round(
            statistics.median(whole) / figures["first_speaker_long_ms"]["median"], 2)
        callback, heard = _stop_to_silence(settings, audio, runs=max(3, args.runs // 2 + 1))
        figures["stop_callback_ms"] = _summary(callback)
        if heard:
            figures["stop_heard_ms"] = _summary(heard)
        if audio is not None and args.load_answers > 0:
            from assistant.speech.player import LATENCY_SECONDS

            now = _glitches_under_load(settings, audio, args.load_answers, LATENCY_SECONDS)
            before = _glitches_under_load(settings, audio, args.load_answers, OLD_LATENCY_SECONDS)
            figures["underruns_under_load"] = f"{now['underruns']} in {now['answers']} answers"
            figures["gaps_under_load"] = f"{now['gaps']} in {now['answers']} answers"
            figures["underruns_under_load_100ms_buffer"] = f"{before['underruns']} in {before['answers']} answers"
            figures["gaps_under_load_100ms_buffer"] = f"{before['gaps']} in {before['answers']} answers"
    finally:
        if audio is not None:
            audio.stop()
    _print(figures)
    return figures


def _print(figures: dict[str, Any]) -> None:
    targets = {"first_speaker_short_ms": FIRST_AUDIO_TARGET_MS, "first_speaker_long_ms": FIRST_AUDIO_TARGET_MS,
               "stop_heard_ms": STOP_TARGET_MS}
    print("speech benchmark (ms)")
    print(f"  {'figure':<38} {'median':>8} {'max':>8}  target")
    for name, value in figures.items():
        if isinstance(value, dict):
            target = targets.get(name)
            verdict = ""
            if target is not None:
                verdict = f"<= {target:.0f} {'ok' if value['median'] <= target else 'MISSED'}"
            print(f"  {name:<38} {value['median']:>8.1f} {value['max']:>8.1f}  {verdict}")
        else:
            print(f"  {name:<38} {value:>8}")


if __name__ == "__main__":
    main()
