"""`python -m bench` (`make bench`): run every benchmark module that exists, then one combined table.

Each module bench/<name>.py has `main() -> dict` of figures; it prints its own table as it goes. A module
that is not there yet is skipped with a line saying so; one that fails is reported and the others still run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import time
import traceback
from typing import Any

MODULES = ("understanding", "emergencies", "recognition", "listening", "home_listening", "speech", "endtoend", "soak",
           "phrases", "allocator", "rooms")


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


def _run(name: str) -> tuple[str, dict[str, Any] | None, str]:
    """(status, figures, note) for bench/<name>.py."""
    if importlib.util.find_spec(f"bench.{name}") is None:
        return "missing", None, f"bench/{name}.py does not exist yet"
    module = importlib.import_module(f"bench.{name}")
    if not callable(getattr(module, "main", None)):
        return "missing", None, f"bench/{name}.py has no main()"
    argv = sys.argv
    sys.argv = [f"bench.{name}"]  # modules that parse options must not see `python -m bench`'s arguments
    try:
        figures = module.main()
    finally:
        sys.argv = argv
    return "ok", figures if isinstance(figures, dict) else {"result": figures}, ""


def _print_combined(results: list[tuple[str, str, dict[str, Any] | None, str, float]]) -> None:
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
            table.add_row("", "(run time)", f"{seconds:.1f} s", end_section=True)
        Console(width=max(100, Console().width)).print(table)
        return
    print("\nbenchmarks")
    for name, status, figures, note, seconds in results:
        if figures is None:
            print(f"  {name:<14} {status}: {note}")
            continue
        for figure, value in _rows(figures):
            print(f"  {name:<14} {figure:<32} {value}")
        print(f"  {name:<14} {'(run time)':<32} {seconds:.1f} s")


def main() -> int:
    results = []
    failed = False
    for name in MODULES:
        print(f"== bench.{name}", flush=True)
        start = time.perf_counter()
        try:
            status, figures, note = _run(name)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            status, figures, note = "failed", None, f"{type(exc).__name__}: {exc}"
            failed = True
        if figures is None:
            print(f"skipped bench.{name}: {note}" if status == "missing" else f"bench.{name} failed: {note}")
        results.append((name, status, figures, note, time.perf_counter() - start))
        print(flush=True)
    _print_combined(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
