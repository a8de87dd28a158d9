"""Emergencies benchmark: the red-flag screen before and after, side by side, in one run.

    .venv/bin/python -m bench.emergencies        (or `make bench`, which runs every benchmark)

"Before" is the `assistant` package and content/ of the code of BASELINE_DATE, taken from git into a temporary
folder and run there in a subprocess; "after" is this tree, run the same way. Both judge the same words:
- typed, held out: every sheet in content/tests/heldout/ (emergencies per red flag, and look-alikes), and
  the odd-numbered utterances of bench/data/dev_utterances.yaml (ordinary questions: topics, triage);
- spoken, held out: a sample of those emergencies and ordinary questions said by voices nothing else uses
  (SPOKEN_VOICES), plain and degraded (tests/degrade.py), recognized once by the built-in Whisper recognizer;
  both sides then judge that transcript (the recognizer is the same for both: only understanding changed);
- the emergency answer as each side's Speaker synthesizes it for 911, 999 and 112: its length beside the
  digit-by-digit and the quantity readings (Whisper writes "911" for both, so it cannot tell them apart).
Prints figures only: nothing is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.baseline import revision_before, tree_of

REPO = Path(__file__).resolve().parent.parent
# The last code before this date is the red-flag screen before it was reworked (the held-out red-flag sheet
# was written the next day, before the screen was changed).
BASELINE_DATE = "2026-12-07T00:00:00Z"
NUMBERS = ("911", "999", "112")
SPOKEN_VOICES = ("flite:kal", "espeak:en-us-nyc", "espeak:en-gb+f3")  # used by no test, bench or tuning
SPOKEN_PER_FLAG = 5  # held-out emergencies per red flag said aloud
SPOKEN_ORDINARY = 24  # held-out look-alikes and ordinary questions said aloud
SEED = 3000
TARGETS = {"recall": 0.99, "false": 0.01, "spoken_recall": 0.95, "spoken_false": 0}

# Runs in the side's own tree: one decision per text, and the synthesized emergency answer's length.
_WORKER = r"""
import json, sys
from pathlib import Path
from assistant.core.loader import load_content
from assistant.core.understanding import Understander
request = json.load(sys.stdin)
content = load_content(Path(request["content"]))
understander = Understander(content)
fields = ("kind", "topic", "disposition", "command")
decisions = [[getattr(d, f) for f in fields] for d in map(understander.understand, request["texts"])]
lengths = {}
if request.get("speak"):
    from assistant.config import Settings
    from assistant.speech.speaker import Speaker
    for number in request["speak"]:
        answer = Understander(content, emergency_number=number).emergency_answer()
        lengths[number] = [answer, len(Speaker(Settings(emergency_number=number), warm_up=False).render(answer))]
print(json.dumps({"decisions": decisions, "lengths": lengths}))
"""


def _baseline_tree(folder: Path) -> Path:
    return tree_of(revision_before(BASELINE_DATE), folder)


def _judge(tree: Path, texts: list[str], speak: tuple[str, ...] = ()) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    request = json.dumps({"content": str(tree / "content"), "texts": texts, "speak": list(speak)})
    result = subprocess.run([sys.executable, "-c", _WORKER], input=request, capture_output=True, text=True,
                            cwd=tree, env=env)
    if result.returncode:
        raise RuntimeError(f"judging in {tree} failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


# -- the held-out sets ------------------------------------------------------------------------------------

def _held_out() -> tuple[list[tuple[str, str]], list[str], list[dict[str, Any]]]:
    """(emergencies as (text, red flag), look-alikes, ordinary held-out utterances with expectations)."""
    import yaml

    from assistant.caregiver.content_check import read_sentence_tests

    cases, problems = read_sentence_tests(REPO / "content" / "tests" / "heldout")
    if problems:
        raise RuntimeError("; ".join(problems))
    emergencies = [(c.sentence, c.red_flag) for c in cases if c.red_flag not in (None, "none")]
    look_alikes = [c.sentence for c in cases if c.red_flag == "none"]
    entries = yaml.safe_load((REPO / "bench" / "data" / "dev_utterances.yaml").read_text(encoding="utf-8"))
    ordinary = [e for i, e in enumerate(entries) if i % 2 == 1]  # bench/spoken_set.py's held-out half
    return emergencies, look_alikes, ordinary


def _typed(side: dict[str, Any], emergencies, look_alikes, ordinary) -> dict[str, Any]:
    decisions = side["decisions"]
    is_emergency = [d[2] == "emergency" for d in decisions]
    n_e, n_l = len(emergencies), len(look_alikes)
    recall: dict[str, list[int]] = {}
    for (_, flag), caught in zip(emergencies, is_emergency[:n_e], strict=True):
        recall.setdefault(flag, [0, 0])
        recall[flag][0] += caught
        recall[flag][1] += 1
    false_look_alikes = sum(is_emergency[n_e:n_e + n_l])
    per_kind: dict[str, list[int]] = {}
    false_ordinary = missed_ordinary = 0
    for entry, decision in zip(ordinary, decisions[n_e + n_l:], strict=True):
        expected = [entry.get(f) for f in ("kind", "topic", "disposition", "command")]
        per_kind.setdefault(entry["kind"], [0, 0])
        per_kind[entry["kind"]][0] += expected == decision
        per_kind[entry["kind"]][1] += 1
        if entry.get("disposition") == "emergency":
            missed_ordinary += decision[2] != "emergency"
        else:
            false_ordinary += decision[2] == "emergency"
    ordinary_n = sum(e.get("disposition") != "emergency" for e in ordinary)
    return {"recall": recall, "false_look_alikes": false_look_alikes, "look_alikes": n_l,
            "false_ordinary": false_ordinary, "ordinary": ordinary_n, "missed_dev_emergencies": missed_ordinary,
            "per_kind": per_kind}


# -- spoken -----------------------------------------------------------------------------------------------

def _spoken_sample(emergencies, look_alikes, ordinary) -> list[tuple[str, bool]]:
    """(text, is an emergency): SPOKEN_PER_FLAG spread over each red flag, and ordinary sentences."""
    chosen: list[tuple[str, bool]] = []
    by_flag: dict[str, list[str]] = {}
    for text, flag in emergencies:
        by_flag.setdefault(flag, []).append(text)
    for texts in by_flag.values():
        step = max(1, len(texts) // SPOKEN_PER_FLAG)
        chosen.extend((t, True) for t in texts[::step][:SPOKEN_PER_FLAG])
    plain = [e["text"] for e in ordinary if e.get("disposition") != "emergency" and e["text"]]
    others = look_alikes[::max(1, len(look_alikes) // (SPOKEN_ORDINARY // 2))][:SPOKEN_ORDINARY // 2]
    others += plain[::max(1, len(plain) // (SPOKEN_ORDINARY // 2))][:SPOKEN_ORDINARY // 2]
    chosen.extend((t, False) for t in others)
    return chosen


def _transcripts(sample: list[tuple[str, bool]]) -> list[tuple[str, str, bool]]:
    """(how, transcript, is an emergency) for each sentence said plain and degraded."""
    from assistant.recognition.whisper_engine import WhisperRecognizer
    from bench import run_cache
    from bench.spoken_set import DEGRADATIONS, _clip_audio

    recognizer = WhisperRecognizer()
    heard = []
    for i, (text, emergency) in enumerate(sample):
        voice = SPOKEN_VOICES[i % len(SPOKEN_VOICES)]
        for how in ("plain", DEGRADATIONS[i % len(DEGRADATIONS)]):
            audio = _clip_audio(text, voice, how, SEED + i)
            heard.append(("plain" if how == "plain" else "degraded", run_cache.transcribe(recognizer, audio).text,
                          emergency))
    return heard


def _spoken_scores(heard: list[tuple[str, str, bool]], side: dict[str, Any]) -> dict[str, Any]:
    scores: dict[str, list[int]] = {"plain": [0, 0], "degraded": [0, 0]}
    false = 0
    for (how, _, emergency), decision in zip(heard, side["decisions"], strict=True):
        if emergency:
            scores[how][0] += decision[2] == "emergency"
            scores[how][1] += 1
        else:
            false += decision[2] == "emergency"
    return {"plain": scores["plain"], "degraded": scores["degraded"], "false": false,
            "ordinary": sum(not e for _, _, e in heard)}


# -- the number -------------------------------------------------------------------------------------------

def _reference_lengths(answer: str, number: str) -> tuple[int, int]:
    """Samples of the answer with the number read digit by digit, and as espeak-ng reads the digits."""
    from assistant.core.spoken_number import dialled
    from assistant.speech import synth
    from assistant.speech.chunks import speech_chunks

    def length(text: str) -> int:
        return sum(len(synth.synthesize(chunk, 165, 0.9)) for chunk in speech_chunks(text))

    return length(answer.replace(number, dialled(number))), length(answer)


def _said_digit_by_digit(side: dict[str, Any]) -> dict[str, str]:
    result = {}
    for number, (answer, samples) in side["lengths"].items():
        digits, quantity = _reference_lengths(answer, number)
        said = "digit by digit" if abs(samples - digits) < abs(samples - quantity) else "as a quantity"
        result[number] = f"{said} ({samples / 22050:.2f} s; digits {digits / 22050:.2f} s, " \
                         f"quantity {quantity / 22050:.2f} s)"
    return result


# -- report -----------------------------------------------------------------------------------------------

def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} {100 * part / max(1, whole):.1f}%"


def run() -> dict[str, Any]:
    started = time.perf_counter()
    emergencies, look_alikes, ordinary = _held_out()
    texts = [t for t, _ in emergencies] + look_alikes + [e["text"] or "" for e in ordinary]
    sample = _spoken_sample(emergencies, look_alikes, ordinary)
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as folder:
        base_tree = _baseline_tree(Path(folder))
        typed = {"before": _judge(base_tree, texts, NUMBERS), "after": _judge(REPO, texts, NUMBERS)}
        print(f"  typed: {len(emergencies)} held-out emergencies, {len(look_alikes)} look-alikes, "
              f"{len(ordinary)} held-out dev utterances ({time.perf_counter() - started:.0f} s)", flush=True)
        heard = _transcripts(sample)
        said = [t for _, t, _ in heard]
        spoken = {"before": _judge(base_tree, said), "after": _judge(REPO, said)}
    figures: dict[str, Any] = {}
    rows: list[tuple[str, str, str, str]] = []
    scored = {side: _typed(typed[side], emergencies, look_alikes, ordinary) for side in typed}
    for flag in scored["after"]["recall"]:
        b, a = scored["before"]["recall"][flag], scored["after"]["recall"][flag]
        rows.append((f"typed recall {flag}", _pct(*b), _pct(*a), f">= {TARGETS['recall']:.0%}"))
        figures[f"typed_recall_{flag}"] = {"before": round(b[0] / b[1], 4), "after": round(a[0] / a[1], 4)}
    for side in ("before", "after"):
        s = scored[side]
        s["false_total"] = s["false_look_alikes"] + s["false_ordinary"]
        s["false_of"] = s["look_alikes"] + s["ordinary"]
    rows.append(("typed false emergencies (look-alikes + ordinary)",
                 *(_pct(scored[s]["false_total"], scored[s]["false_of"]) for s in ("before", "after")),
                 f"<= {TARGETS['false']:.0%}"))
    rows.append(("  of them on look-alikes",
                 *(_pct(scored[s]["false_look_alikes"], scored[s]["look_alikes"]) for s in ("before", "after")), ""))
    rows.append(("  of them on ordinary questions",
                 *(_pct(scored[s]["false_ordinary"], scored[s]["ordinary"]) for s in ("before", "after")), ""))
    figures["typed_false_emergencies"] = {s: scored[s]["false_total"] for s in ("before", "after")}
    for kind in ("topic", "triage", "command", "unknown"):
        b, a = scored["before"]["per_kind"].get(kind), scored["after"]["per_kind"].get(kind)
        if b and a:
            rows.append((f"typed held-out {kind}s right", _pct(*b), _pct(*a), "not lower"))
            figures[f"typed_{kind}"] = {"before": round(b[0] / b[1], 4), "after": round(a[0] / a[1], 4)}
    spoken_scores = {side: _spoken_scores(heard, spoken[side]) for side in spoken}
    for how in ("plain", "degraded"):
        rows.append((f"spoken recall, {how}", *(_pct(*spoken_scores[s][how]) for s in ("before", "after")),
                     f">= {TARGETS['spoken_recall']:.0%}"))
        figures[f"spoken_recall_{how}"] = {s: spoken_scores[s][how] for s in ("before", "after")}
    rows.append(("spoken false emergencies", *(f"{spoken_scores[s]['false']}/{spoken_scores[s]['ordinary']}"
                                               for s in ("before", "after")), "0"))
    figures["spoken_false_emergencies"] = {s: spoken_scores[s]["false"] for s in ("before", "after")}
    said_as = {side: _said_digit_by_digit(typed[side]) for side in typed}
    for number in NUMBERS:
        rows.append((f"emergency answer says {number}", said_as["before"][number], said_as["after"][number],
                     "digit by digit"))
    figures["number_digit_by_digit"] = {s: [n for n in NUMBERS if said_as[s][n].startswith("digit")]
                                        for s in ("before", "after")}
    width = max(len(r[0]) for r in rows)
    print(f"emergencies benchmark: before = the code before {BASELINE_DATE} "
          f"({revision_before(BASELINE_DATE)[:12]}), after = this tree; spoken voices {', '.join(SPOKEN_VOICES)}"
          f" ({len(sample)} sentences, plain and degraded)")
    print(f"  {'figure':<{width}}  {'before':<22}  {'after':<22}  target")
    for name, before, after, target in rows:
        if name.startswith("emergency answer"):
            print(f"  {name:<{width}}  before: {before}\n  {'':<{width}}  after:  {after}")
        else:
            print(f"  {name:<{width}}  {before:<22}  {after:<22}  {target}")
    misses = [t for (how, t, e), d in zip(heard, spoken["after"]["decisions"], strict=True)
              if e and d[2] != "emergency"]
    print(f"  spoken emergencies missed after (what Whisper wrote): {misses}")
    figures["run_seconds"] = round(time.perf_counter() - started, 1)
    return figures


def main() -> dict[str, Any]:
    return run()


if __name__ == "__main__":
    main()
