"""Earlier code beside this tree's, in one run: `python -m bench --baseline REV [understanding recognition endtoend]`.

REV's `assistant` and `content` come out of git (`git archive`) into a temporary folder and run there in a
subprocess with PYTHONPATH on that folder; this tree runs the same way, so both sides are measured alike
on the same machine, minutes apart. The bench side only uses entry points that exist on both sides of
the reorganisation into folders (`assistant.core.loader.load_content`, `assistant.core.understanding.Understander`,
`assistant.config.Settings`, `assistant.recognition.open_recognizer`, `assistant listen`), and finds
`decide` where each layout keeps it.

Headline figures, each with this tree / REV:
- understanding: the held-out typed set (the odd-numbered utterances of bench/data/dev_utterances.yaml,
  all four fields right; emergencies missed and false) and the held-out red-flag sheet
  (content/tests/heldout/red_flags.yaml of this tree, the same words for both sides);
- recognition: the held-out spoken set (bench/spoken_set.py "heldout", plain and degraded, the same clips
  for both sides) through each side's own recognizer as the assistant opens it, and each side's decisions:
  right decisions, spoken emergencies caught, false emergencies;
- endtoend: `assistant listen` on the virtual devices (bench/endtoend.py): end of question to first answer
  sound (median), cold start to "listening" and to the greeting, peak memory of the assistant process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
HEADLINES = ("understanding", "recognition", "endtoend")


def revision_before(date: str) -> str:
    """The last commit on this branch made before `date` (ISO 8601): how the bench names earlier code."""
    found = subprocess.run(["git", "-C", str(REPO), "rev-list", "-1", f"--before={date}", "HEAD"],
                           capture_output=True, text=True)
    if found.returncode or not found.stdout.strip():
        raise RuntimeError(f"no commit before {date} in {REPO} (is the git history there?)")
    return found.stdout.strip()


def tree_of(revision: str, folder: Path) -> Path:
    """`assistant` and `content` of `revision`, extracted into `folder`."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", revision, "assistant", "content"],
                             capture_output=True)
    if archive.returncode:
        raise RuntimeError(f"git archive {revision} failed: {archive.stderr.decode(errors='replace')[-500:]}")
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def start_in(tree: Path, code: str, request: dict[str, Any]) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    process = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=tree, env=env)
    assert process.stdin is not None
    process.stdin.write(json.dumps(request))
    process.stdin.close()
    return process


def result_of(process: subprocess.Popen, tree: Path) -> dict[str, Any]:
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    if process.wait():
        raise RuntimeError(f"the bench side in {tree} failed: {err[-2000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    if Path(result["package"]).resolve() != (tree / "assistant").resolve():  # an installed copy got in first
        raise RuntimeError(f"the bench side in {tree} imported {result['package']}")
    return result


# Runs in the side's own tree: what `assistant` is, and its decisions on typed texts and on clips.
_SIDE = r"""
import json, sys
from pathlib import Path
import numpy as np
import assistant
from assistant.core.loader import load_content
from assistant.core.understanding import Understander
request = json.load(sys.stdin)
content = load_content(Path(request["content"]))
understander = Understander(content)
fields = ("kind", "topic", "disposition", "command")
result = {"package": str(Path(assistant.__file__).parent)}
if "texts" in request:
    result["typed"] = [[getattr(d, f) for f in fields] for d in map(understander.understand, request["texts"])]
if "clips" in request:
    try:
        from assistant.recognition.reading import decide  # the layout with recognition/ holding the reading
    except ImportError:
        from assistant.hearing import decide  # the layout before it
    from assistant.config import Settings
    from assistant.recognition import open_recognizer
    recognizer = open_recognizer(Settings(engine="whisper"), content)
    clips = np.load(request["clips"])
    spoken = []
    for name in sorted(clips.files, key=int):
        transcript = recognizer.transcribe(clips[name])
        decision = decide(transcript, understander, source="speech")
        spoken.append([transcript.text, *(getattr(decision, f) for f in fields)])
    result["spoken"] = spoken
print(json.dumps(result))
"""


def _typed_set() -> tuple[list[str], list[list[Any]], list[str], list[str]]:
    """(held-out typed texts, their expected fields, held-out red-flag sentences, look-alikes)."""
    import yaml

    from assistant.caregiver.content_check import read_sentence_tests

    entries = yaml.safe_load((REPO / "bench" / "data" / "dev_utterances.yaml").read_text(encoding="utf-8"))
    held = [e for i, e in enumerate(entries) if i % 2 == 1]  # bench/spoken_set.py's held-out half
    cases, problems = read_sentence_tests(REPO / "content" / "tests" / "heldout")
    if problems:
        raise RuntimeError("; ".join(problems))
    flags = [c.sentence for c in cases if c.red_flag not in (None, "none")]
    look_alikes = [c.sentence for c in cases if c.red_flag == "none"]
    expected = [[e.get(f) for f in ("kind", "topic", "disposition", "command")] for e in held]
    return [e["text"] or "" for e in held], expected, flags, look_alikes


def _score(expected: list[list[Any]], got: list[list[Any]]) -> dict[str, Any]:
    right = sum(e == g for e, g in zip(expected, got, strict=True))
    emergencies = [g[2] == "emergency" for e, g in zip(expected, got, strict=True) if e[2] == "emergency"]
    false = sum(g[2] == "emergency" for e, g in zip(expected, got, strict=True) if e[2] != "emergency")
    return {"right": (right, len(expected)), "emergencies": (sum(emergencies), len(emergencies)), "false": false}


def understanding(trees: dict[str, Path]) -> list[tuple[str, dict[str, Any]]]:
    texts, expected, flags, look_alikes = _typed_set()
    request = {"texts": texts + flags + look_alikes}
    runs = {side: start_in(tree, _SIDE, {**request, "content": str(tree / "content")}) for side, tree in trees.items()}
    got = {side: result_of(process, trees[side])["typed"] for side, process in runs.items()}
    n, f = len(texts), len(flags)
    scores = {side: _score(expected, typed[:n]) for side, typed in got.items()}
    caught = {side: (sum(d[2] == "emergency" for d in typed[n:n + f]), f) for side, typed in got.items()}
    false = {side: (sum(d[2] == "emergency" for d in typed[n + f:]), len(look_alikes)) for side, typed in got.items()}
    return [("typed held-out: right decisions", {s: scores[s]["right"] for s in trees}),
            ("typed held-out: emergencies caught", {s: scores[s]["emergencies"] for s in trees}),
            ("typed held-out: false emergencies", {s: scores[s]["false"] for s in trees}),
            ("held-out red-flag sheet: caught", caught),
            ("held-out red-flag sheet: look-alikes taken as emergencies", false)]


def recognition(trees: dict[str, Path]) -> list[tuple[str, dict[str, Any]]]:
    from bench.spoken_set import clips

    chosen = clips("heldout")
    expected = [[c.expect.get(f) for f in ("kind", "topic", "disposition", "command")] for c in chosen]
    with tempfile.TemporaryDirectory(prefix="bench-clips-") as folder:
        path = Path(folder) / "clips.npz"
        np.savez(path, **{str(i): c.audio for i, c in enumerate(chosen)})
        # the two sides side by side: each decodes on one thread, so each has a core
        runs = {side: start_in(tree, _SIDE, {"content": str(tree / "content"), "clips": str(path)})
                for side, tree in trees.items()}
        got = {side: result_of(process, trees[side])["spoken"] for side, process in runs.items()}
    rows: list[tuple[str, dict[str, Any]]] = []
    for how, keep in (("plain", lambda c: c.how == "plain"), ("degraded", lambda c: c.how != "plain")):
        index = [i for i, c in enumerate(chosen) if keep(c)]
        scores = {side: _score([expected[i] for i in index], [spoken[i][1:] for i in index])
                  for side, spoken in got.items()}
        rows += [(f"spoken held-out, {how}: right decisions", {s: scores[s]["right"] for s in trees}),
                 (f"spoken held-out, {how}: emergencies caught", {s: scores[s]["emergencies"] for s in trees}),
                 (f"spoken held-out, {how}: false emergencies", {s: scores[s]["false"] for s in trees})]
    # equal counts can hide clips that changed both ways: how many each side heard or decided differently
    base, ours = got["baseline"], got["this tree"]
    heard = sum(b[0] != o[0] for b, o in zip(base, ours, strict=True))
    decided = sum(b[1:] != o[1:] for b, o in zip(base, ours, strict=True))
    rows.append(("spoken held-out: clips heard differently / decided differently",
                 {"baseline": "-", "this tree": f"{heard} / {decided} of {len(chosen)}"}))
    return rows


def endtoend(trees: dict[str, Path]) -> list[tuple[str, dict[str, Any]]]:
    from bench.endtoend import measure

    figures = {}
    with tempfile.TemporaryDirectory(prefix="bench-endtoend-") as work:
        for side, tree in trees.items():  # one after the other: these are real-time figures
            figures[side] = measure(Path(work) / side, cwd=tree)
    return [("end of question -> first answer sound, median s",
             {s: figures[s]["answer_latency_s"]["median"] for s in trees}),
            ("end of question -> first answer sound, max s", {s: figures[s]["answer_latency_s"]["max"] for s in trees}),
            ("cold start -> 'listening', s", {s: figures[s]["cold_start_s"] for s in trees}),
            ("cold start -> greeting sound, s", {s: figures[s]["cold_start_to_greeting_s"] for s in trees}),
            ("peak memory of the assistant process, MB", {s: figures[s]["peak_rss_mb"] for s in trees})]


SETS: dict[str, Callable[[dict[str, Path]], list[tuple[str, dict[str, Any]]]]] = {
    "understanding": understanding, "recognition": recognition, "endtoend": endtoend}


def _number(value: Any) -> float | None:
    if isinstance(value, tuple | list):
        return value[0] / value[1] if value[1] else None
    return float(value) if isinstance(value, int | float) else None


def _text(value: Any) -> str:
    if isinstance(value, tuple | list):
        return f"{value[0]}/{value[1]} ({100 * value[0] / max(1, value[1]):.1f}%)"
    return str(value)


def compare(revision: str, names: tuple[str, ...] = HEADLINES) -> dict[str, Any]:
    """Print REV's headline figures beside this tree's, with this tree / REV; return them."""
    unknown = [n for n in names if n not in SETS]
    if unknown:
        raise SystemExit(f"no baseline figures for {', '.join(unknown)}: choose from {', '.join(SETS)}")
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        trees = {"baseline": tree_of(revision, Path(folder) / "baseline"), "this tree": REPO}
        for name in names:
            print(f"== baseline {revision} beside this tree: {name}", flush=True)
            rows += SETS[name](trees)
    width = max(len(r[0]) for r in rows)
    print(f"\nheadline figures: {revision} (baseline) beside this tree")
    print(f"  {'figure':<{width}}  {revision[:12]:>20}  {'this tree':>20}  {'this / baseline':>15}")
    figures: dict[str, Any] = {}
    for figure, values in rows:
        before, after = _number(values["baseline"]), _number(values["this tree"])
        ratio = f"{after / before:.3f}" if before and after is not None else "-"
        print(f"  {figure:<{width}}  {_text(values['baseline']):>20}  {_text(values['this tree']):>20}  {ratio:>15}")
        figures[figure] = {"baseline": values["baseline"], "this tree": values["this tree"], "ratio": ratio}
    return figures
