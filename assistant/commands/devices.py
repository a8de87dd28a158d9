"""`assistant devices`: the microphones and speakers the assistant can use, defaults and choice marked.

Exit status 0 when a microphone and a speaker are available (and the configured ones exist), else 1
with a line saying what is missing and how to fix it.
"""

from __future__ import annotations

import argparse
import sys

from assistant.audio import devices as audio_devices
from assistant.audio.devices import DeviceInfo, DeviceNotFoundError, Kind, SoundSystemError
from assistant.config import Settings

COLUMNS = ("", "INDEX", "NAME", "CHANNELS", "RATE", "DEFAULT")


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "devices",
        parents=parents,
        help="list microphones and speakers",
        description="List the audio inputs (microphones) and outputs (speakers) with their index, name, "
                    "channels and default rate. 'default' marks the system default, '*' the device the "
                    "assistant will use. Choose with --input-device / --output-device INDEX or NAME "
                    "(part of the name is enough), or input_device / output_device in the config file.",
    )
    parser.set_defaults(func=run)


def _rows(devices: list[DeviceInfo], kind: Kind, chosen: DeviceInfo | None) -> list[tuple[str, ...]]:
    return [("*" if chosen is not None and d.index == chosen.index else "", str(d.index), d.name,
             str(d.channels(kind)), f"{d.default_samplerate:g}", "default" if d.is_default(kind) else "")
            for d in devices if d.channels(kind) > 0]


def _print_plain(title: str, rows: list[tuple[str, ...]]) -> None:
    print(title)
    if not rows:
        print("  (none)")
        return
    widths = [max(1, *(len(row[i]) for row in [COLUMNS, *rows])) for i in range(len(COLUMNS))]
    for row in [COLUMNS, *rows]:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _print_rich(title: str, rows: list[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for name in COLUMNS:
        table.add_column(name, justify="right" if name in ("INDEX", "CHANNELS", "RATE") else "left")
    for row in rows:
        table.add_row(*row, style="bold" if row[0] == "*" else None)
    if not rows:
        table.add_row("", "", "(none)", "", "", "")
    Console().print(table)


def _choose(spec: str | None, kind: Kind, devices: list[DeviceInfo], problems: list[str]) -> DeviceInfo | None:
    try:
        return audio_devices.resolve_device(spec, kind, devices)
    except DeviceNotFoundError as exc:
        problems.append(exc.summary)  # the tables printed above already list the devices
        return None


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        with audio_devices.quiet_stderr():
            devices = audio_devices.list_devices()
    except SoundSystemError as exc:
        print(f"assistant: {exc}", file=sys.stderr)
        return 1
    if not devices:
        print(f"assistant: {audio_devices.NO_SOUND_SYSTEM_HELP}", file=sys.stderr)
        return 1
    problems: list[str] = []
    mic = _choose(settings.input_device, "input", devices, problems)
    speaker = _choose(settings.output_device, "output", devices, problems)
    show = _print_rich if sys.stdout.isatty() else _print_plain
    show("Microphones (inputs)", _rows(devices, "input", mic))
    show("Speakers (outputs)", _rows(devices, "output", speaker))
    for label, device, spec in (("microphone", mic, settings.input_device),
                                ("speaker", speaker, settings.output_device)):
        if device is not None:
            how = "system default" if audio_devices.is_default_spec(spec) else f"chosen as {spec!r}"
            print(f"{label}: {device.label()} ({how})")
    for problem in problems:
        print(f"assistant: {problem}", file=sys.stderr)
    return 1 if problems else 0
