"""The recognizer's allocator setting (assistant/recognition/allocator.py) against glibc's own behaviour.

Each run is a fresh process that loads the recognizer and decodes the same held-out clips; runs alternate
(with, without, with, without) so a busy machine weighs on both alike. Printed side by side:
- peak memory of the process (VmHWM), MB;
- decode CPU per clip (process time, so page faults from unmapping count), median and total.
`python -m bench.allocator [clips]` (default 120).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RUNS_EACH = 2

ONE_RUN = """
import json, sys, time
import assistant.recognition.allocator as allocator
if sys.argv[1] == "glibc":
    allocator.map_big_buffers_separately = lambda: False  # glibc's own behaviour
from assistant.recognition.whisper_engine import WhisperRecognizer
from bench.spoken_set import clips

recognizer = WhisperRecognizer()
chosen = clips("heldout")[: int(sys.argv[2])]
cpu = []
for clip in chosen:
    started = time.process_time()
    recognizer.transcribe(clip.audio)
    cpu.append(time.process_time() - started)
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"cpu": cpu, "peak_mb": peak / 1024}))
"""


def _run(setting: str, count: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", ONE_RUN, setting, str(count)], cwd=REPO, capture_output=True,
                          text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> dict[str, Any]:
    count = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 120
    runs: dict[str, list[dict[str, Any]]] = {"glibc": [], "big_buffers_mapped": []}
    for _ in range(RUNS_EACH):
        for setting in runs:
            runs[setting].append(_run(setting, count))
    figures: dict[str, Any] = {"clips": count, "runs_each": RUNS_EACH}
    for setting, results in runs.items():
        figures[f"{setting}_peak_mb"] = [round(r["peak_mb"], 1) for r in results]
        figures[f"{setting}_decode_cpu_median_s"] = [round(statistics.median(r["cpu"]), 3) for r in results]
        figures[f"{setting}_decode_cpu_total_s"] = [round(sum(r["cpu"]), 1) for r in results]
    peak = {s: statistics.mean(figures[f"{s}_peak_mb"]) for s in runs}
    total = {s: statistics.mean(figures[f"{s}_decode_cpu_total_s"]) for s in runs}
    figures["peak_mb_saved"] = round(peak["glibc"] - peak["big_buffers_mapped"], 1)
    figures["decode_cpu_ratio_mapped_to_glibc"] = round(total["big_buffers_mapped"] / total["glibc"], 3)
    print(f"recognizer process, {count} held-out clips, {RUNS_EACH} alternating runs each")
    print(f"  {'':28} {'glibc as is':>22} {'big buffers mapped':>22}")
    for name, unit in (("peak_mb", "MB"), ("decode_cpu_median_s", "s"), ("decode_cpu_total_s", "s")):
        left = ", ".join(str(v) for v in figures[f"glibc_{name}"])
        right = ", ".join(str(v) for v in figures[f"big_buffers_mapped_{name}"])
        print(f"  {name + ' (' + unit + ')':28} {left:>22} {right:>22}")
    ratio = figures["decode_cpu_ratio_mapped_to_glibc"]
    print(f"  peak memory {figures['peak_mb_saved']} MB lower; decode CPU x{ratio}")
    return figures


if __name__ == "__main__":
    main()
