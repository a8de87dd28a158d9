"""`python -m bench` (`make bench`): run every benchmark module that exists, then one combined table.

    python -m bench [--jobs N] [MODULE ...]              every module (or those named), N side by side
    python -m bench --baseline REV [understanding recognition endtoend]
                                                         REV's headline figures beside this tree's

Each module bench/<name>.py has `main() -> dict` of figures and prints its own table. Each runs in its own
subprocess (the decoder uses one thread, so two of them use both cores); its output is captured and printed
whole, in the order of MODULES, as soon as it and the ones before it are done. Modules that time real-time
audio (ALONE) run with no other module beside them. All modules of one run share a temporary folder
(bench/run_cache.py): a clip decoded by one is not decoded again by another. A module that is not there yet
is skipped with a line saying so; one that fails is reported and the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import run_cache
from bench.run_cache import ENV

REPO = Path(__file__).resolve().parent.parent
MODULES = ("understanding", "emergencies", "recognition", "listening", "home_listening", "speech", "endtoend", "soak",
           "phrases", "allocator", "rooms", "listened_for")
# Real-time figures (answer latency, playback glitches under a load of their own): nothing else runs beside them.
ALONE = ("speech", "endtoend")
# Modules whose main(parts) runs a part at a time: each part is a job of its own, so the longest modules do not
# hold one worker for the whole run while the other waits. Their figures and outputs are joined in this order.
# The dev parts the constants were tuned on run with BENCH_DEV=1; the held-out ones always.
PARTS = {"home_listening": (("heldout",), ("dev",)) if os.environ.get("BENCH_DEV") else (("heldout",),),
         "listening": (("questions", "cost"), ("halting",), ("quiet",))}
# Rough CPU seconds of each module (docs/decisions.md), for the order only: the longest start first, so the
# two workers finish close together. A module not listed is taken as RUNNING_SECONDS_UNKNOWN.
SECONDS = {"home_listening": 1350, "listening": 330, "soak": 650, "recognition": 350, "phrases": 160,
           "allocator": 190, "emergencies": 60, "rooms": 150, "endtoend": 100, "speech": 100, "understanding": 1}
RUNNING_SECONDS_UNKNOWN = 300


def _value(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return f"{len(value)} item(s)"
    return str(value)


def _rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, _value(value)) for name, value in figures.items()]


def _run(name: str, parts: tuple[str, ...] = ()) -> tuple[str, dict[str, Any] | None, str]:
    """(status, figures, note) for bench/<name>.py (only `parts` of it, if given), run in this process."""
    if importlib.util.find_spec(f"bench.{name}") is None:
        return "missing", None, f"bench/{name}.py does not exist yet"
    module = importlib.import_module(f"bench.{name}")
    if not callable(getattr(module, "main", None)):
        return "missing", None, f"bench/{name}.py has no main()"
    argv = sys.argv
    sys.argv = [f"bench.{name}"]  # modules that parse options must not see `python -m bench`'s arguments
    try:
        figures = module.main(parts) if parts else module.main()
    finally:
        sys.argv = argv
    return "ok", figures if isinstance(figures, dict) else {"result": figures}, ""


def _one(name: str, result_path: Path, parts: tuple[str, ...]) -> int:
    """The worker: run one module (or parts of it) here and write (status, figures, note) as JSON."""
    try:
        status, figures, note = _run(name, parts)
        shared = run_cache.summary()
        if shared:
            print(f"({shared})", flush=True)
    except Exception as exc:  # one broken benchmark must not hide the others' figures
        traceback.print_exc()
        status, figures, note = "failed", None, f"{type(exc).__name__}: {exc}"
    result_path.write_text(json.dumps({"status": status, "figures": figures, "note": note}, default=str))
    return 1 if status == "failed" else 0


@dataclass
class Job:
    name: str
    parts: tuple[str, ...]
    folder: Path
    process: subprocess.Popen | None = None
    started: float = 0.0
    seconds: float = 0.0
    cpu: float = 0.0  # user + system seconds of the job's process and the processes it waited for
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return " ".join((self.name, *self.parts))

    @property
    def log(self) -> Path:
        return self.folder / f"{'-'.join((self.name, *self.parts))}.out"

    @property
    def result_path(self) -> Path:
        return self.log.with_suffix(".json")

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.started = time.perf_counter()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench", "--one", self.name, str(self.result_path), *self.parts],
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env)

    def done(self) -> bool:
        assert self.process is not None
        pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
        if pid == 0:
            return False
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.seconds = time.perf_counter() - self.started
        self.cpu = usage.ru_utime + usage.ru_stime
        if self.result_path.is_file():
            self.result = json.loads(self.result_path.read_text())
        else:
            self.result = {"status": "failed", "figures": None,
                           "note": f"the module's process ended with code {self.process.returncode}"}
        return True


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").is_file() else "?"


def _schedule(jobs: list[Job]) -> list[Job]:
    """Real-time modules first, alone; then the longest first."""
    def seconds(job: Job) -> float:
        return SECONDS.get(job.name, RUNNING_SECONDS_UNKNOWN) / len(PARTS.get(job.name, ((),)))

    rest = sorted((j for j in jobs if j.name not in ALONE), key=lambda j: -seconds(j))
    return [j for j in jobs if j.name in ALONE] + rest


def _joined(jobs: list[Job]) -> tuple[str, dict[str, Any] | None, str, str]:
    """One module's (status, figures, note, run time) from its parts' jobs."""
    statuses = [j.result["status"] for j in jobs]
    status = "failed" if "failed" in statuses else "missing" if "missing" in statuses else "ok"
    figures: dict[str, Any] | None = None
    if status == "ok":
        figures = {}
        for job in jobs:
            figures.update(job.result["figures"] or {})
    note = "; ".join(j.result["note"] for j in jobs if j.result["note"])
    wall = " + ".join(f"{j.seconds:.0f}" for j in jobs)
    return status, figures, note, f"{wall} s wall, {sum(j.cpu for j in jobs):.0f} s CPU"


def run_all(names: list[str], workers: int) -> list[tuple[str, str, dict[str, Any] | None, str, str]]:
    with tempfile.TemporaryDirectory(prefix="bench-run-") as folder:
        os.environ[ENV] = str(Path(folder) / "shared")  # the modules' shared decodes (bench/run_cache.py)
        by_module = {n: [Job(n, p, Path(folder)) for p in PARTS.get(n, ((),))] for n in names}
        waiting = _schedule([j for n in names for j in by_module[n]])
        running: list[Job] = []
        finished: list[Job] = []
        printed = 0
        began = time.perf_counter()

        def say(text: str) -> None:
            print(f"[bench {time.perf_counter() - began:5.0f} s] {text} (load {_load()})", file=sys.stderr, flush=True)

        while waiting or running:
            while waiting and len(running) < workers:
                if waiting[0].name in ALONE and running or running and running[0].name in ALONE:
                    break
                job = waiting.pop(0)
                job.start()
                running.append(job)
                say(f"started {job.label}")
            time.sleep(0.5)
            for job in [j for j in running if j.done()]:
                running.remove(job)
                finished.append(job)
                say(f"{job.label}: {job.result['status']} in {job.seconds:.0f} s, {job.cpu:.0f} s of CPU")
            while printed < len(names) and all(j in finished for j in by_module[names[printed]]):
                name = names[printed]
                status, _, note, _ = _joined(by_module[name])
                print(f"== bench.{name}", flush=True)
                for job in by_module[name]:
                    sys.stdout.write(job.log.read_text(errors="replace"))
                if status != "ok":
                    print(f"skipped bench.{name}: {note}" if status == "missing" else f"bench.{name} failed: {note}")
                print(flush=True)
                printed += 1
        shutil.rmtree(Path(folder) / "shared", ignore_errors=True)
        say(f"all modules done in {time.perf_counter() - began:.0f} s, {workers} side by side")
        return [(n, *_joined(by_module[n])) for n in names]


def _print_combined(results: list[tuple[str, str, dict[str, Any] | None, str, str]]) -> None:
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # rich is a dependency, but the table must not depend on it
        Console = None  # noqa: N806
    if Console is not None:
        table = Table(title="benchmarks", show_lines=False)
        for column in ("benchmark", "figure", "value"):
            table.add_column(column, overflow="fold")
        for name, status, figures, note, seconds in results:
            if figures is None:
                table.add_row(name, status, note)
                continue
            for i, (figure, value) in enumerate(_rows(figures)):
                table.add_row(name if i == 0 else "", figure, value)
            table.add_row("", "(run time)", seconds, end_section=True)
        Console(width=max(100, Console().width)).print(table)
        return
    print("\nbenchmarks")
    for name, status, figures, note, seconds in results:
        if figures is None:
            print(f"  {name:<14} {status}: {note}")
            continue
        for figure, value in _rows(figures):
            print(f"  {name:<14} {figure:<32} {value}")
        print(f"  {name:<14} {'(run time)':<32} {seconds}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"modules to run (default: all of {', '.join(MODULES)})")
    parser.add_argument("--jobs", type=int, default=2, help="modules run side by side (default 2)")
    parser.add_argument("--baseline", metavar="REV", help="print REV's headline figures beside this tree's "
                        "(modules: understanding, recognition, endtoend; default all three)")
    # the worker for one job: MODULE's main() (with the positional arguments as its parts), figures to RESULT
    parser.add_argument("--one", nargs=2, metavar=("MODULE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        return _one(args.one[0], Path(args.one[1]), tuple(args.modules))
    if args.baseline:
        from bench.baseline import HEADLINES, compare

        compare(args.baseline, tuple(args.modules) or HEADLINES)
        return 0
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}: choose from {', '.join(MODULES)}")
    names = list(args.modules) or list(MODULES)
    results = run_all(names, max(1, args.jobs))
    _print_combined(results)
    return 1 if any(status == "failed" for _, status, _, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
