"""Understanding benchmark: accuracy on the development set and the time it takes.

bench/data/dev_utterances.yaml holds utterances in the voices of patients and relatives, written without
looking at the content phrasings, each with its expected kind/topic/disposition/command. A decision is
correct when all four fields match.

Targets: at least 95% correct (98% is the aim); every emergency caught; at most one false
emergency; understanding at most 1 ms per utterance (median); content load at most 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DEV_SET = REPO / "bench" / "data" / "dev_utterances.yaml"
FIELDS = ("kind", "topic", "disposition", "command")
TARGETS = {"accuracy": 0.95, "median_ms": 1.0, "content_load_ms": 100.0, "missed_emergencies": 0,
           "false_emergencies": 1}


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _describe(fields: dict[str, Any]) -> str:
    return " ".join(str(v) for v in (fields["kind"], fields["topic"] or fields["disposition"] or fields["command"])
                    if v)


def run(content_dir: Path, dev_set: Path = DEV_SET, passes: int = 5) -> dict[str, Any]:
    from assistant.core.loader import load_content
    from assistant.core.understanding import Understander

    load_times = []
    for _ in range(5):  # the first load includes importing and caching; report the median and the first
        start = time.perf_counter()
        content = load_content(content_dir)
        load_times.append(1000 * (time.perf_counter() - start))
    start = time.perf_counter()
    understander = Understander(content)
    build_ms = 1000 * (time.perf_counter() - start)

    entries = yaml.safe_load(dev_set.read_text(encoding="utf-8"))
    per_kind: dict[str, list[int]] = {}
    wrong: list[str] = []
    missed = false_alarms = 0
    confirms = 0
    for entry in entries:
        decision = understander.understand(entry["text"] or "")
        expected = {name: entry.get(name) for name in FIELDS}
        got = {name: getattr(decision, name) for name in FIELDS}
        correct = expected == got
        per_kind.setdefault(expected["kind"], [0, 0])
        per_kind[expected["kind"]][0] += correct
        per_kind[expected["kind"]][1] += 1
        if not correct:
            wrong.append(f"{entry['text']!r}: expected {_describe(expected)}, got {_describe(got)}")
        if expected["disposition"] == "emergency" and not decision.is_emergency:
            missed += 1
        if expected["disposition"] != "emergency" and decision.is_emergency:
            false_alarms += 1
        confirms += decision.kind == "topic" and decision.confirm

    texts = [entry["text"] or "" for entry in entries]
    times = []
    for _ in range(passes):
        for text in texts:
            start = time.perf_counter_ns()
            understander.understand(text)
            times.append((time.perf_counter_ns() - start) / 1e6)

    right = sum(correct for correct, _ in per_kind.values())
    return {
        "utterances": len(entries),
        "accuracy": round(right / len(entries), 4),
        "per_kind": {kind: round(c / n, 4) for kind, (c, n) in sorted(per_kind.items())},
        "per_kind_counts": {kind: f"{c}/{n}" for kind, (c, n) in sorted(per_kind.items())},
        "missed_emergencies": missed,
        "false_emergencies": false_alarms,
        "topic_confirms": confirms,
        "median_ms": round(statistics.median(times), 4),
        "p95_ms": round(_percentile(times, 0.95), 4),
        "content_load_ms": round(statistics.median(load_times), 2),
        "content_first_load_ms": round(load_times[0], 2),
        "understander_build_ms": round(build_ms, 2),
        "wrong": wrong,
    }


def _verdict(name: str, value: float) -> str:
    target = TARGETS.get(name)
    if target is None:
        return ""
    if name == "accuracy":
        return f">= {target:.0%}  {'ok' if value >= target else 'MISSED'}"
    ratio = f" ({value / target:.2f} of target)" if target else ""
    return f"<= {target:g}{ratio}  {'ok' if value <= target else 'MISSED'}"


def print_table(figures: dict[str, Any]) -> None:
    print(f"understanding benchmark: {figures['utterances']} utterances in {DEV_SET.relative_to(REPO)}")
    print(f"  {'figure':<24} {'value':>12}  target")
    print(f"  {'accuracy':<24} {figures['accuracy']:>12.1%}  {_verdict('accuracy', figures['accuracy'])}")
    for kind, share in figures["per_kind"].items():
        print(f"  {'  ' + kind:<24} {share:>12.1%}  ({figures['per_kind_counts'][kind]})")
    for name in ("missed_emergencies", "false_emergencies", "topic_confirms"):
        print(f"  {name:<24} {figures[name]:>12}  {_verdict(name, figures[name])}")
    for name in ("median_ms", "p95_ms", "content_load_ms", "content_first_load_ms", "understander_build_ms"):
        print(f"  {name:<24} {figures[name]:>12.3f}  {_verdict(name, figures[name])}")
    if figures["wrong"]:
        print(f"  wrong decisions ({len(figures['wrong'])}):")
        for line in figures["wrong"]:
            print(f"    {line}")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.understanding", description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=REPO / "content", help="content folder")
    parser.add_argument("--dev-set", type=Path, default=DEV_SET, help="utterances with expected decisions")
    parser.add_argument("--passes", type=int, default=5, help="timing passes over the development set")
    args = parser.parse_args([] if argv is None else argv)
    figures = run(args.content, args.dev_set, args.passes)
    print_table(figures)
    return figures


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
