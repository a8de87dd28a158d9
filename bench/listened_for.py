"""Listened-for benchmark: the phrases that matter listened for on every utterance, before and after, in one run.

    .venv/bin/python -m bench.listened_for [--talk-minutes 40]     (or `make bench`, which runs every benchmark)

"Before" is the `assistant` package and content/ as they were before the phrases were listened for (taken from
git into a temporary folder), "after" is this tree; each runs `assistant ask --audio --json --no-speak` over
the same WAV files in its own subprocess (the two at once, one decoding thread each). Everything here is held
out: nothing was tuned on it.
- Emergencies and voice commands in phrasings the listened-for set was not written from
  (bench/data/listened_for.yaml), said by voices nothing is tuned on (speech_voices.HELD_OUT_VOICES): over
  TV-like talk in other voices (TV_VOICES, texts below) 10 dB down, degraded (tests/degrade.py) and plain.
- Near phrases and negations (never emergencies), and the held-out half of the spoken set (bench/spoken_set.py:
  plain, degraded and over the TV), whose right decisions must not drop.
- Talk alone: texts installed on this machine (licences in /usr/share/common-licenses, Python module
  docstrings) read by several voices, cut into utterances of 2 to 8 s: false emergencies and false commands per
  hour, over what was decoded (--talk-minutes of it; the rate's true denominator is printed).
- CPU added per utterance by listening (the after side's recognizer measures it on every file).
Prints figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the synthetic voices, degradations and room sounds live beside the tests

from degrade import DEGRADATIONS, degrade  # noqa: E402
from room_sounds import speech_at_level  # noqa: E402
from speech_voices import HELD_OUT_VOICES, speak, write_wav  # noqa: E402

RATE = 16000
PERSON_DB, TV_DB = -26.0, -36.0  # active speech levels: the TV 10 dB below the person
TV_VOICES = ("espeak:en-gb-scotland", "espeak:en-029", "espeak:en-gb-x-gbclan")  # nobody speaks in these
TALK_VOICES = ("espeak:en-gb-scotland", "espeak:en-029", "flite:kal", "espeak:en-us-nyc", "espeak:en-gb-x-gbcwmd")
TALK_MINUTES = 40.0  # per side: about 6 minutes of one core's decoding each (the rate is reported per hour)
SEED = 7000
DATA = REPO / "bench" / "data" / "listened_for.yaml"
TARGETS = {"emergencies": "all", "false_emergencies": "0", "false_talk": "<= 0.1 / h", "commands": ">= 90%",
           "false_commands": "<= 1 / h", "cpu": "median <= 40 ms", "spoken": "not lower"}

# The after side: the same `ask --audio` decisions, plus the CPU its recognizer spent listening on each file.
_AFTER_WORKER = r"""
import json, sys, time
from pathlib import Path
from assistant.app import Application
from assistant.config import Settings
app = Application.open(Settings())
recognizer = app.recognizer()
paths = [Path(p) for p in json.load(sys.stdin)]
for path, decision in zip(paths, app.decide_audio_files(paths)):
    row = decision.to_contract()
    row["listen_cpu"] = getattr(recognizer, "last_listen_seconds", None)
    print(json.dumps(row), flush=True)
"""


def _baseline_commit() -> str:
    """The commit before the phrases were listened for: the parent of the first commit holding this file."""
    found = subprocess.run(["git", "log", "--diff-filter=A", "--format=%H", "--", "bench/listened_for.py"],
                           cwd=REPO, capture_output=True, text=True).stdout.split()
    return f"{found[-1]}^" if found else "HEAD"


def _baseline_tree(folder: Path, commit: str) -> Path:
    archive = subprocess.run(["git", "archive", commit, "assistant", "content"], cwd=REPO, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def _run_side(tree: Path, paths: list[Path], after: bool, home: Path) -> tuple[list[dict[str, Any]], float]:
    """One decision per file from the side's own tree, and the CPU seconds its process used."""
    env = {**os.environ, "PYTHONPATH": str(tree), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_DATA_HOME": str(home / "data"), "ASSISTANT_CONFIG": str(home / "none.yaml")}
    env.pop("PULSE_SERVER", None)
    started = time.perf_counter()
    if after:
        command = [sys.executable, "-c", _AFTER_WORKER]
        given = json.dumps([str(p) for p in paths])
    else:
        command = [sys.executable, "-m", "assistant", "ask", "--json", "--no-speak", "--audio", *map(str, paths)]
        given = ""
    result = subprocess.run(command, input=given, capture_output=True, text=True, cwd=tree, env=env)
    if result.returncode:
        raise RuntimeError(f"deciding in {tree} failed: {result.stderr[-2000:]}")
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    if len(rows) != len(paths):
        raise RuntimeError(f"{tree}: {len(rows)} decisions for {len(paths)} files: {result.stderr[-2000:]}")
    return rows, time.perf_counter() - started


# -- the clips --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    group: str  # emergency | command | near | spoken | talk
    how: str  # plain | degraded | tv
    text: str
    expect: dict[str, Any]
    path: Path
    seconds: float


def _cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ot-pt-assistant")) / "bench-listened-for"


_TV: dict[str, np.ndarray] = {}


def _tv(voice: str) -> np.ndarray:
    if voice not in _TV:
        _TV[voice] = speech_at_level(speak(" ".join(_talk_texts()[1][:60]), voice), TV_DB)
    return _TV[voice]


def _clip(text: str, voice: str, how: str, seed: int) -> np.ndarray:
    said = speech_at_level(speak(text, voice), PERSON_DB)
    padded = np.concatenate([np.zeros(8000, np.int16), said, np.zeros(8000, np.int16)])
    if how == "plain":
        return padded
    if how == "tv":  # the TV over the whole utterance, from a different point each time
        tv = _tv(TV_VOICES[seed % len(TV_VOICES)])
        start = (seed * 7919 * 16) % max(1, len(tv) - len(padded))
        mixed = padded.astype(np.int32) + np.resize(tv[start:], len(padded))
        return mixed.clip(-32768, 32767).astype(np.int16)
    return degrade(padded, DEGRADATIONS[seed % len(DEGRADATIONS)], seed)


def _write(key: str, make) -> tuple[Path, float]:
    path = _cache_dir() / f"{hashlib.sha256(f'{key}|v1'.encode()).hexdigest()[:20]}.wav"
    if not path.is_file():
        audio = make()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, audio)
    import wave

    with wave.open(str(path)) as reader:
        return path, reader.getnframes() / reader.getframerate()


def _talk_texts() -> tuple[list[str], list[str]]:
    """(sentences for talk alone, sentences for the TV): installed texts, the TV's never in the talk."""
    import re

    def sentences(text: str) -> list[str]:
        text = re.sub(r"[#*|>\[\]()_`~=<{}\\/\"]+", " ", text)
        return [" ".join(s.split()) for s in re.split(r"(?<=[.!?])\s+", text) if 4 <= len(s.split()) <= 60]

    licences = Path("/usr/share/common-licenses")
    talk: list[str] = []
    for name in ("GPL-3", "Apache-2.0", "MPL-2.0", "Artistic"):
        if (licences / name).is_file():
            talk.extend(sentences((licences / name).read_text(encoding="utf-8", errors="replace")))
    import argparse as module_a
    import collections as module_c
    import json as module_j
    import logging as module_l

    for module in (module_a, module_c, module_j, module_l):
        talk.extend(sentences(module.__doc__ or ""))
    tv = sentences((licences / "GFDL-1.3").read_text(encoding="utf-8", errors="replace")) \
        if (licences / "GFDL-1.3").is_file() else talk[-80:]
    return talk, tv


def items(talk_minutes: float) -> list[Item]:
    from bench.spoken_set import utterances

    data = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    voices = HELD_OUT_VOICES
    out: list[Item] = []
    n = 0

    def add(group: str, text: str, how: str, expect: dict[str, Any]) -> None:
        nonlocal n
        voice, seed = voices[n % len(voices)], SEED + n
        path, seconds = _write(f"{text}|{voice}|{how}|{seed}", lambda: _clip(text, voice, how, seed))
        out.append(Item(group, how, text, expect, path, seconds))

    for text in data["emergencies"]:
        for how in ("tv", "degraded", "plain"):
            add("emergency", text, how, {"disposition": "emergency"})
        n += 1
    for command, texts in data["commands"].items():
        for text in texts:
            for how in ("tv", "plain"):
                add("command", text, how, {"command": command})
            n += 1
    for text in data["near"]:
        for how in ("tv", "degraded", "plain"):
            add("near", text, how, {})
        n += 1
    for entry in utterances(1):  # bench/spoken_set.py's held-out half (its silent entries are not speech)
        if not (entry.get("text") or "").strip():
            continue
        expect = {k: entry.get(k) for k in ("kind", "topic", "disposition", "command")}
        for how in ("plain", "degraded", "tv"):
            add("spoken", entry["text"], how, expect)
        n += 1
    talk, _ = _talk_texts()
    rng = np.random.default_rng(SEED)
    words = " ".join(talk).split()
    at, total, i = 0, 0.0, 0
    while total < talk_minutes * 60 and words:
        count = int(rng.integers(5, 21))  # 2 to 8 s of speech
        text = " ".join(words[at:at + count])
        at = (at + count) % max(1, len(words) - 21)
        voice = TALK_VOICES[i % len(TALK_VOICES)]
        path, seconds = _write(f"talk|{text}|{voice}",
                               lambda text=text, voice=voice: speech_at_level(
                                   np.concatenate([np.zeros(8000, np.int16), speak(text, voice),
                                                   np.zeros(8000, np.int16)]), PERSON_DB))
        out.append(Item("talk", "plain", text, {}, path, seconds))
        total += seconds
        i += 1
    return out


# -- scoring ----------------------------------------------------------------------------------------------

def _right(item: Item, row: dict[str, Any]) -> bool:
    return all(row.get(k) == v for k, v in item.expect.items())


def _score(chosen: list[Item], rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {}
    for item, row in zip(chosen, rows, strict=True):
        by.setdefault((item.group, item.how), []).append((item, row))
    f: dict[str, Any] = {}
    for how in ("tv", "degraded", "plain"):
        pairs = by.get(("emergency", how), [])
        f[f"emergencies_{how}"] = (sum(r.get("disposition") == "emergency" for _, r in pairs), len(pairs))
    pairs = by.get(("command", "tv"), [])
    f["commands_tv"] = (sum(_right(i, r) for i, r in pairs), len(pairs))
    f["commands_tv_asked_back"] = sum(bool(r.get("confirm")) and r.get("kind") == "unknown"
                                      and r.get("listened_for") in ("yes", "no") for _, r in pairs)
    pairs = by.get(("command", "plain"), [])
    f["commands_plain"] = (sum(_right(i, r) for i, r in pairs), len(pairs))
    near = [p for how in ("tv", "degraded", "plain") for p in by.get(("near", how), [])]
    f["false_near"] = (sum(r.get("disposition") == "emergency" for _, r in near), len(near))
    ordinary = [(i, r) for how in ("plain", "degraded", "tv") for i, r in by.get(("spoken", how), [])
                if i.expect.get("disposition") != "emergency"]
    f["false_ordinary"] = (sum(r.get("disposition") == "emergency" for _, r in ordinary), len(ordinary))
    for name, hows in (("spoken_right", ("plain", "degraded")), ("spoken_right_tv", ("tv",))):
        pairs = [p for how in hows for p in by.get(("spoken", how), [])]
        f[name] = (sum(_right(i, r) for i, r in pairs), len(pairs))
    talk = by.get(("talk", "plain"), [])
    hours = sum(i.seconds for i, _ in talk) / 3600
    f["talk_hours"] = hours
    f["talk_utterances"] = len(talk)
    f["false_talk_emergencies"] = sum(r.get("disposition") == "emergency" for _, r in talk)
    f["false_talk_commands"] = sum(r.get("kind") == "command" for _, r in talk)
    f["false_talk_stops"] = sum(r.get("command") in ("stop", "goodbye") for _, r in talk)
    f["false_talk_listened"] = sum(r.get("listened_for") is not None for _, r in talk)
    f["talk_examples"] = [f"{r.get('transcript')!r} -> {r.get('disposition') or r.get('command')}"
                          for _, r in talk if r.get("disposition") == "emergency" or r.get("kind") == "command"][:6]
    f["listened_decided"] = sum(r.get("listened_for") is not None for r in rows)
    cpu = [r["listen_cpu"] for r in rows if r.get("listen_cpu") is not None]
    if cpu:
        f["cpu_median_ms"] = 1000 * statistics.median(cpu)
        f["cpu_p90_ms"] = 1000 * sorted(cpu)[int(0.9 * (len(cpu) - 1))]
    f["missed"] = [f"{i.how}: {i.text!r} -> {r.get('transcript')!r}" for (i, r) in
                   [p for how in ("tv", "degraded", "plain") for p in by.get(("emergency", how), [])]
                   if r.get("disposition") != "emergency"]
    f["false"] = [f"{i.group}/{i.how}: {i.text!r} -> {r.get('transcript')!r} ({r.get('listened_for')})"
                  for i, r in zip(chosen, rows, strict=True) if i.group in ("near", "spoken")
                  and i.expect.get("disposition") != "emergency" and r.get("disposition") == "emergency"]
    return f


def _pct(pair: tuple[int, int]) -> str:
    right, total = pair
    return f"{right}/{total} {100 * right / max(1, total):.0f}%"


def _per_hour(count: int, hours: float) -> str:
    return f"{count} in {hours:.2f} h = {count / max(hours, 1e-9):.1f}/h"


def run(talk_minutes: float = TALK_MINUTES, every: int = 1, before_tree: Path | None = None,
        after_tree: Path | None = None) -> dict[str, Any]:
    """`before_tree` / `after_tree`: folders holding assistant/ and content/ to compare instead of the code
    before (from git) and this tree (e.g. this tree without the uncommitted work of others)."""
    started = time.perf_counter()
    chosen = items(talk_minutes)[::every]
    print(f"  {len(chosen)} clips ready ({time.perf_counter() - started:.0f} s)", flush=True)
    commit = str(before_tree) if before_tree else _baseline_commit()
    with tempfile.TemporaryDirectory(prefix="bench-listened-") as folder:
        base = before_tree or _baseline_tree(Path(folder) / "before", commit)
        paths = [i.path for i in chosen]
        with ThreadPoolExecutor(2) as pool:
            before = pool.submit(_run_side, base, paths, False, Path(folder))
            after = pool.submit(_run_side, after_tree or REPO, paths, True, Path(folder))
            (rows_before, wall_before), (rows_after, wall_after) = before.result(), after.result()
    s = {"before": _score(chosen, rows_before), "after": _score(chosen, rows_after)}
    b, a = s["before"], s["after"]
    rows = [
        ("emergencies caught, over a TV 10 dB down", _pct(b["emergencies_tv"]), _pct(a["emergencies_tv"]), "all"),
        ("emergencies caught, degraded", _pct(b["emergencies_degraded"]), _pct(a["emergencies_degraded"]), "all"),
        ("emergencies caught, plain", _pct(b["emergencies_plain"]), _pct(a["emergencies_plain"]), "all"),
        ("false emergencies, held-out questions (plain, degraded, TV)", _pct(b["false_ordinary"]),
         _pct(a["false_ordinary"]), "0"),
        ("false emergencies, near phrases and negations", _pct(b["false_near"]), _pct(a["false_near"]), "0"),
        ("false emergencies, talk alone", _per_hour(b["false_talk_emergencies"], b["talk_hours"]),
         _per_hour(a["false_talk_emergencies"], a["talk_hours"]), TARGETS["false_talk"]),
        ("voice commands right, over a TV 10 dB down", _pct(b["commands_tv"]), _pct(a["commands_tv"]), ">= 90%"),
        ("  yes/no over the TV asked back", str(b["commands_tv_asked_back"]), str(a["commands_tv_asked_back"]), ""),
        ("voice commands right, plain", _pct(b["commands_plain"]), _pct(a["commands_plain"]), "not lower"),
        ("false commands, talk alone (any command)", _per_hour(b["false_talk_commands"], b["talk_hours"]),
         _per_hour(a["false_talk_commands"], a["talk_hours"]), TARGETS["false_commands"]),
        ("  of them stop or goodbye (cut in while speaking)", _per_hour(b["false_talk_stops"], b["talk_hours"]),
         _per_hour(a["false_talk_stops"], a["talk_hours"]), ""),
        ("  decided by a listened-for phrase", "-", _per_hour(a["false_talk_listened"], a["talk_hours"]), ""),
        ("held-out spoken set right (plain + degraded)", _pct(b["spoken_right"]), _pct(a["spoken_right"]),
         "not lower"),
        ("held-out spoken set right, over a TV 10 dB down", _pct(b["spoken_right_tv"]), _pct(a["spoken_right_tv"]),
         "not lower"),
        ("decisions made by a listened-for phrase", "-", str(a["listened_decided"]), ""),
        ("CPU added per utterance (listening)", "-",
         f"median {a.get('cpu_median_ms', 0):.0f} ms, p90 {a.get('cpu_p90_ms', 0):.0f} ms", TARGETS["cpu"]),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"listened-for benchmark: before = {commit}, after = {after_tree or 'this tree'}; "
          f"person voices {', '.join(HELD_OUT_VOICES)}; "
          f"TV voices {', '.join(TV_VOICES)}; talk alone {a['talk_utterances']} utterances, "
          f"{a['talk_hours'] * 60:.1f} min of {', '.join(TALK_VOICES)} (decoding took {wall_before:.0f} s before, "
          f"{wall_after:.0f} s after, side by side)")
    print(f"  {'figure':<{width}}  {'before':<24}  {'after':<24}  target")
    for name, before_value, after_value, target in rows:
        print(f"  {name:<{width}}  {before_value:<24}  {after_value:<24}  {target}")
    for side in ("before", "after"):
        print(f"  {side}: emergencies missed: {s[side]['missed']}")
        print(f"  {side}: false emergencies: {s[side]['false']}")
        print(f"  {side}: talk alone decided as emergency or command: {s[side]['talk_examples']}")
    figures: dict[str, Any] = {}
    for key in ("emergencies_tv", "emergencies_degraded", "emergencies_plain", "false_ordinary", "false_near",
                "commands_tv", "commands_plain", "spoken_right", "spoken_right_tv"):
        figures[key] = {side: list(s[side][key]) for side in s}
    for key in ("false_talk_emergencies", "false_talk_commands", "false_talk_stops"):
        figures[key] = {side: s[side][key] for side in s}
    figures["talk_hours"] = round(a["talk_hours"], 3)
    figures["cpu_median_ms"] = round(a.get("cpu_median_ms", 0.0), 1)
    figures["cpu_p90_ms"] = round(a.get("cpu_p90_ms", 0.0), 1)
    figures["run_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talk-minutes", type=float, default=TALK_MINUTES, help="minutes of talk alone per side")
    parser.add_argument("--every", type=int, default=1, help="only every N-th clip (a quick look, not the figures)")
    parser.add_argument("--before-tree", type=Path, help="a folder with assistant/ and content/ as before")
    parser.add_argument("--after-tree", type=Path, help="a folder with assistant/ and content/ to measure")
    args = parser.parse_args()
    return run(args.talk_minutes, args.every, args.before_tree, args.after_tree)


if __name__ == "__main__":
    main()
