"""`assistant content check [DIR]`: validate a content folder and run the test sentences kept beside it.

A clinician who edits the YAML sees at once what is broken (file, line, what, how to fix) and whether the
change broke understanding of the sentences in DIR/tests/*.yaml (the format: assistant/caregiver/content_check.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.caregiver.content_check import (
    HELD_OUT_FOLDER,
    NO_RED_FLAG,
    TESTS_FOLDER,
    FlagScore,
    read_sentence_tests,
    red_flag_scores,
)
from assistant.config import Settings
from assistant.core.content import Content
from assistant.core.loader import ContentError, load_content


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "content",
        help="check the content folder (topics, triage, red flags, commands)",
        description="Work with the YAML content the assistant answers from.",
    )
    actions = parser.add_subparsers(dest="content_action", metavar="ACTION", required=True)
    check = actions.add_parser(
        "check", parents=parents,
        help="validate the content and run its test sentences",
        description="Load DIR (default: --content, else the bundled content/), print every problem with "
                    "its file and line, and run the test sentences in DIR/tests/*.yaml. Exit status 1 when "
                    "anything is wrong.",
    )
    check.add_argument("directory", nargs="?", metavar="DIR", help="content folder to check")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    directory = Path(args.directory) if args.directory else settings.content_path()
    return check_content(directory, settings.emergency_number)


def check_content(directory: Path, emergency_number: str = "911") -> int:
    try:
        content = load_content(directory)
    except ContentError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {directory}. Fix them and run `assistant content check` "
              "again.", file=sys.stderr)
        return 1
    print(summary(content, directory))
    from assistant.core.listened import closed_set_problems
    from assistant.core.understanding import Understander

    # every phrase listened for must mean what it is listed for (a red flag's spoken form is an emergency)
    listened_problems = closed_set_problems(Understander(content, emergency_number=emergency_number))
    for problem in listened_problems:
        print(f"{directory}/{problem}")
    if listened_problems:
        return 1
    cases, problems = read_sentence_tests(directory / TESTS_FOLDER, content)
    if problems:
        for problem in problems:
            print(problem)
        return 1
    if not cases:
        print(f"No test sentences in {directory / TESTS_FOLDER} (optional: see content/tests/ for the format).")
        return 0
    understander = Understander(content, emergency_number=emergency_number)
    failures = [(case, why) for case in cases
                if (why := case.mismatch(understander.understand(case.sentence))) is not None]
    for case, why in failures:
        print(f"{case.place}: test sentence '{case.sentence}': {why}. Fix: add a phrasing, keyword or "
              "signal to the content, or correct the expectation")
    print_red_flag_table("red-flag sheet", red_flag_scores(cases, understander))
    held_out, held_out_problems = read_sentence_tests(directory / TESTS_FOLDER / HELD_OUT_FOLDER, content)
    for problem in held_out_problems:
        print(problem)
    if held_out:
        print_red_flag_table("held-out red-flag sheet (reported only, never tuned on)",
                             red_flag_scores(held_out, understander))
    if failures or held_out_problems:
        print(f"{len(failures)} of {len(cases)} test sentences failed.", file=sys.stderr)
        return 1
    print(f"All {len(cases)} test sentences pass.")
    return 0


def print_red_flag_table(title: str, scores: dict[str, FlagScore]) -> None:
    if not scores:
        return
    print(f"{title}:")
    print(f"  {'red flag':<16} {'recall':>16} {'false alarms':>13}")
    for flag, score in sorted(scores.items(), key=lambda item: item[0] == NO_RED_FLAG):
        if flag == NO_RED_FLAG:
            print(f"  {'look-alikes':<16} {'':>16} {score.false_alarms:>5} of {score.total}")
        else:
            recall = f"{score.caught}/{score.total} {score.recall:.1%}" if score.total else "-"
            print(f"  {flag:<16} {recall:>16} {score.false_alarms:>13}")


def summary(content: Content, directory: Path) -> str:
    phrasings = sum(len(topic.phrasings) for topic in content.topics.values())
    flag_phrases = sum(len(rule.phrases) + len(rule.combos) for rule in content.red_flags.rules)
    return (f"{directory}: OK: {len(content.topics)} topics, {phrasings} phrasings, "
            f"{len(content.red_flags.rules)} red flags ({flag_phrases} phrases and combinations), "
            f"{len(content.commands)} commands")
