"""The test sentences kept beside the content (DIR/tests/*.yaml), read and scored: what `assistant content
check` runs, and what the tests and benchmarks read.

Test sentence files are a YAML list of groups:
    - sentences: [what is o t, um whats occupational therapy]
      expect: {kind: topic, topic: ot.what}
Fields left out of `expect` must be null in the decision (kind is required).

The red-flag sheet's groups name a red flag instead (`expect` is then optional):
    - red_flag: chest               # every sentence must be an emergency; none: a look-alike, never one
      templates: ["{who_has} got chest pain"]     # and/or sentences: [...]
      slots: {who_has: [i've, he's]}               # every combination of the values a template uses
Generated sentences are written in turn as given, all lower case (as some recognizers write), and with a
capital and a full stop (as others do). DIR/tests/heldout/*.yaml is only reported, never required to pass:
it measures wordings nothing was tuned on.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.core.content import COMMAND_IDS, DISPOSITIONS, TOPIC_IDS, Content
from assistant.core.decision import Decision

EXPECT_FIELDS = ("kind", "topic", "disposition", "command")
KINDS = ("topic", "triage", "command", "unknown")
ALLOWED_VALUES = {"kind": KINDS, "topic": TOPIC_IDS, "disposition": DISPOSITIONS, "command": COMMAND_IDS}
TESTS_FOLDER = "tests"
HELD_OUT_FOLDER = "heldout"  # inside TESTS_FOLDER
NO_RED_FLAG = "none"
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class SentenceCase:
    """One test sentence with where it is written and what understanding must conclude."""

    file: Path
    line: int
    sentence: str
    expect: dict[str, str | None]  # every field of EXPECT_FIELDS, None where it must be null
    red_flag: str | None = None  # the red flag this sentence is, "none" for a look-alike, None: not on the sheet

    @property
    def place(self) -> str:
        return f"{self.file}:{self.line}"

    def mismatch(self, decision: Decision) -> str | None:
        """None when the decision is as expected, else a one-line description of what differs."""
        got = {name: getattr(decision, name) for name in EXPECT_FIELDS}
        if self.red_flag not in (None, NO_RED_FLAG) and not decision.is_emergency:
            return f"expected an emergency ({self.red_flag}), got {describe(got)}"
        if self.red_flag == NO_RED_FLAG and decision.is_emergency:
            return "expected no emergency (a look-alike), got triage emergency"
        if got == self.expect or (self.red_flag == NO_RED_FLAG and self.expect["kind"] is None):
            return None  # a look-alike with no exact expectation only has to stay ordinary
        return f"expected {describe(self.expect)}, got {describe(got)}"


def describe(fields: dict[str, str | None]) -> str:
    """'topic ot.what', 'triage emergency', 'command repeat', 'unknown'."""
    detail = [value for name in ("topic", "disposition", "command") if (value := fields.get(name))]
    return " ".join([str(fields.get("kind")), *detail])


@dataclass
class FlagScore:
    """How one red flag did on a sheet: emergencies caught, and look-alikes it raised the alarm on."""

    caught: int = 0
    total: int = 0
    false_alarms: int = 0

    @property
    def recall(self) -> float:
        return self.caught / self.total if self.total else 1.0


def red_flag_scores(cases: Iterable[SentenceCase], understander) -> dict[str, FlagScore]:
    """Per red flag: recall on its sentences, false alarms on the look-alikes ("none": how many look-alikes)."""
    scores: dict[str, FlagScore] = {}
    for case in cases:
        if case.red_flag is None:
            continue
        decision = understander.understand(case.sentence)
        if case.red_flag != NO_RED_FLAG:
            score = scores.setdefault(case.red_flag, FlagScore())
            score.total += 1
            score.caught += decision.is_emergency
        else:
            scores.setdefault(NO_RED_FLAG, FlagScore()).total += 1
            fired = understander.red_flag(case.sentence)
            if fired is not None:
                scores.setdefault(fired, FlagScore()).false_alarms += 1
                scores[NO_RED_FLAG].false_alarms += 1
    return scores


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
        for unknown in set(fields) - {"sentences", "expect", "red_flag", "templates", "slots"}:
            problems.append(f"{path}:{line}: unknown key '{unknown}'. Fix: use only 'sentences' and 'expect' "
                            "(and on the red-flag sheet 'red_flag', 'templates', 'slots')")
        red_flag = _red_flag(path, fields.get("red_flag"), line, problems, content)
        if red_flag is not None and "expect" not in fields:
            expect: dict[str, str | None] | None = dict.fromkeys(EXPECT_FIELDS)
            if red_flag != NO_RED_FLAG:
                expect.update(kind="triage", disposition="emergency")
            ok = red_flag != ""
        else:
            expect = _expectation(path, fields.get("expect"), line, problems, content)
            ok = expect is not None and red_flag != ""
        written = _sentences(path, fields.get("sentences"), problems)
        generated = _generated(path, fields.get("templates"), fields.get("slots"), line, problems)
        if not written and not generated:
            problems.append(f"{path}:{line}: 'sentences' is missing or empty. Fix: list the sentences to test")
            continue
        if ok:
            cases.extend(SentenceCase(path, at, text, expect, red_flag or None) for at, text in written + generated)
    return cases


def _sentences(path: Path, node: yaml.Node | None, problems: list[str]) -> list[tuple[int, str]]:
    if not isinstance(node, yaml.SequenceNode):
        return []
    result = []
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
            problems.append(f"{path}:{item.start_mark.line + 1}: a sentence must be plain text. Fix: write "
                            "it on one line after '- '")
            continue
        result.append((item.start_mark.line + 1, str(item.value)))
    return result


def _red_flag(path: Path, node: yaml.Node | None, line: int, problems: list[str],
              content: Content | None) -> str | None:
    """The group's red flag id, "none", None when the group has none, "" when it is wrong (reported)."""
    if node is None:
        return None
    value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
    known = [rule.id for rule in content.red_flags.rules] if content is not None else None
    if not value or (known is not None and value not in (*known, NO_RED_FLAG)):
        choices = ", ".join([*(known or []), NO_RED_FLAG])
        problems.append(f"{path}:{node.start_mark.line + 1}: red_flag '{value}' does not exist. Fix: use one "
                        f"of {choices}")
        return ""
    return value


def _generated(path: Path, templates: yaml.Node | None, slots: yaml.Node | None, line: int,
               problems: list[str]) -> list[tuple[int, str]]:
    """Every combination of the slot values each template uses, written in turn in the three styles."""
    if templates is None:
        return []
    values: dict[str, list[str]] = {}
    if isinstance(slots, yaml.MappingNode):
        for key, node in slots.value:
            if isinstance(node, yaml.SequenceNode) and all(isinstance(v, yaml.ScalarNode) for v in node.value):
                values[str(key.value)] = [str(v.value) for v in node.value]
            else:
                problems.append(f"{path}:{key.start_mark.line + 1}: slot '{key.value}' must be a list of words. "
                                "Fix: write it as [word, other words, ...]")
    elif slots is not None:
        problems.append(f"{path}:{slots.start_mark.line + 1}: 'slots' must map names to lists. Fix: see "
                        "content/tests/red_flags.yaml")
    result: list[tuple[int, str]] = []
    for at, template in _sentences(path, templates, problems):
        names = list(dict.fromkeys(_SLOT.findall(template)))
        missing = [name for name in names if name not in values]
        if missing:
            problems.append(f"{path}:{at}: template uses slot '{missing[0]}' that 'slots' does not define. Fix: "
                            "add it to 'slots' or correct the template")
            continue
        for combination in itertools.product(*(values[name] for name in names)):
            text = " ".join(template.format(**dict(zip(names, combination, strict=True))).split())
            result.append((at, _styled(text, len(result))))
    return result


def _styled(text: str, index: int) -> str:
    """As written; all lower case; or with a capital and a full stop: how different recognizers write."""
    style = index % 3
    if style == 1:
        return text.lower()
    if style == 2:
        text = text[:1].upper() + text[1:]
        return text if text[-1:] in ".!?" else f"{text}."
    return text


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
