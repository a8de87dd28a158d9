"""`assistant content check [DIR]`: validate a content folder and run the test sentences kept beside it.

A clinician who edits the YAML sees at once what is broken (file, line, what, how to fix) and whether the
change broke understanding of the sentences in DIR/tests/*.yaml (the Home Assistant intents way).

Test sentence files are a YAML list of groups:
    - sentences: [what is o t, um whats occupational therapy]
      expect: {kind: topic, topic: ot.what}
Fields left out of `expect` must be null in the decision (kind is required).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.config import Settings
from assistant.core.content import COMMAND_IDS, DISPOSITIONS, TOPIC_IDS, Content
from assistant.core.decision import Decision
from assistant.core.loader import ContentError, load_content

EXPECT_FIELDS = ("kind", "topic", "disposition", "command")
KINDS = ("topic", "triage", "command", "unknown")
ALLOWED_VALUES = {"kind": KINDS, "topic": TOPIC_IDS, "disposition": DISPOSITIONS, "command": COMMAND_IDS}
TESTS_FOLDER = "tests"


@dataclass(frozen=True)
class SentenceCase:
    """One test sentence with where it is written and what understanding must conclude."""

    file: Path
    line: int
    sentence: str
    expect: dict[str, str | None]  # every field of EXPECT_FIELDS, None where it must be null

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}"

    def mismatch(self, decision: Decision) -> str | None:
        """None when the decision is as expected, else a one-line description of what differs."""
        got = {name: getattr(decision, name) for name in EXPECT_FIELDS}
        if got == self.expect:
            return None
        return f"expected {describe(self.expect)}, got {describe(got)}"


def describe(fields: dict[str, str | None]) -> str:
    """'topic ot.what', 'triage emergency', 'command repeat', 'unknown'."""
    detail = [value for name in ("topic", "disposition", "command") if (value := fields.get(name))]
    return " ".join([str(fields.get("kind")), *detail])


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
    cases, problems = read_sentence_tests(directory / TESTS_FOLDER, content)
    if problems:
        for problem in problems:
            print(problem)
        return 1
    if not cases:
        print(f"No test sentences in {directory / TESTS_FOLDER} (optional: see content/tests/ for the format).")
        return 0
    from assistant.core.understanding import Understander  # only needed once the content is valid

    understander = Understander(content, emergency_number=emergency_number)
    failures = [(case, why) for case in cases
                if (why := case.mismatch(understander.understand(case.sentence))) is not None]
    for case, why in failures:
        print(f"{case.place}: test sentence '{case.sentence}': {why}. Fix: add a phrasing, keyword or "
              "signal to the content, or correct the expectation")
    if failures:
        print(f"{len(failures)} of {len(cases)} test sentences failed.", file=sys.stderr)
        return 1
    print(f"All {len(cases)} test sentences pass.")
    return 0


def summary(content: Content, directory: Path) -> str:
    phrasings = sum(len(topic.phrasings) for topic in content.topics.values())
    flag_phrases = sum(len(rule.phrases) + len(rule.combos) for rule in content.red_flags.rules)
    return (f"{directory}: OK: {len(content.topics)} topics, {phrasings} phrasings, "
            f"{len(content.red_flags.rules)} red flags ({flag_phrases} phrases and combinations), "
            f"{len(content.commands)} commands")


# -- test sentences -----------------------------------------------------------------------------------

def read_sentence_tests(folder: Path, content: Content | None = None) -> tuple[list[SentenceCase], list[str]]:
    """Every test sentence in folder/*.yaml, and the problems (file:line: what. Fix: how) with the files."""
    cases: list[SentenceCase] = []
    problems: list[str] = []
    if not folder.is_dir():
        return cases, problems
    for path in sorted(folder.glob("*.y*ml")):
        cases.extend(_read_file(path, problems, content))
    return cases, problems


def _read_file(path: Path, problems: list[str], content: Content | None) -> Iterable[SentenceCase]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problems.append(f"{where}: YAML syntax error: {exc.problem}. Fix: check indentation, colons and quotes")
        return []
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        problems.append(f"{path}:{root.start_mark.line + 1}: expected a list of '- sentences: ... expect: ...' "
                        "groups. Fix: see content/tests/topics.yaml")
        return []
    cases: list[SentenceCase] = []
    for group in root.value:
        line = group.start_mark.line + 1
        if not isinstance(group, yaml.MappingNode):
            problems.append(f"{path}:{line}: a group needs 'sentences:' and 'expect:'. Fix: see "
                            "content/tests/topics.yaml")
            continue
        fields = {key.value: value for key, value in group.value}
        for unknown in set(fields) - {"sentences", "expect"}:
            problems.append(f"{path}:{line}: unknown key '{unknown}'. Fix: use only 'sentences' and 'expect'")
        expect = _expectation(path, fields.get("expect"), line, problems, content)
        sentences = fields.get("sentences")
        if not isinstance(sentences, yaml.SequenceNode) or not sentences.value:
            problems.append(f"{path}:{line}: 'sentences' is missing or empty. Fix: list the sentences to test")
            continue
        for node in sentences.value:
            if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
                problems.append(f"{path}:{node.start_mark.line + 1}: a sentence must be plain text. Fix: write "
                                "it on one line after '- '")
                continue
            if expect is not None:
                cases.append(SentenceCase(path, node.start_mark.line + 1, str(node.value), expect))
    return cases


def _expectation(path: Path, node: yaml.Node | None, line: int, problems: list[str],
                 content: Content | None) -> dict[str, str | None] | None:
    if not isinstance(node, yaml.MappingNode):
        problems.append(f"{path}:{line}: 'expect' is missing or not a mapping. Fix: write "
                        "'expect: {kind: topic, topic: ot.what}'")
        return None
    ok = True
    expect: dict[str, str | None] = dict.fromkeys(EXPECT_FIELDS)
    for key, value in node.value:
        where = f"{path}:{key.start_mark.line + 1}"
        if key.value not in EXPECT_FIELDS:
            problems.append(f"{where}: unknown expectation '{key.value}'. Fix: use {', '.join(EXPECT_FIELDS)}")
            ok = False
            continue
        text = None if value.tag.endswith(":null") else str(value.value)
        allowed = ALLOWED_VALUES[key.value]
        if key.value == "topic" and content is not None:
            allowed = tuple(content.topics)
        if text is not None and text not in allowed:
            problems.append(f"{where}: {key.value} '{text}' does not exist. Fix: use one of {', '.join(allowed)}")
            ok = False
        expect[key.value] = text
    if expect["kind"] is None:
        problems.append(f"{path}:{node.start_mark.line + 1}: 'expect' has no kind. Fix: add kind: "
                        f"{' | '.join(KINDS)}")
        ok = False
    return expect if ok else None
