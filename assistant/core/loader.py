"""Load and validate content/ YAML. Every problem names the file, the line, what is wrong and the fix.

All problems are collected (not just the first) so that `assistant content check` can list them at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from assistant.core.content import (
    COMMAND_IDS,
    TOPIC_IDS,
    Command,
    Content,
    Question,
    RedFlag,
    RedFlags,
    Topic,
    Triage,
)

CONTENT_FILES = ("topics.yaml", "triage.yaml", "red_flags.yaml", "commands.yaml", "messages.yaml",
                 "synonyms.yaml")
MIN_PHRASINGS = 8
MAX_ANSWER_WORDS = 50  # the spoken first answer: about 45 words, a little slack for clinicians' edits
REQUIRED_MESSAGES = (
    "greeting", "greeting_wake", "help", "unknown", "not_heard", "did_you_mean", "did_you_mean_two",
    "rephrase", "nothing_to_repeat", "no_more", "goodbye", "listening", "ready", "questionnaire_intro",
    "questionnaire_left", "yes_no_please", "rate_slower", "rate_faster", "rate_slowest", "rate_fastest",
    "volume_louder", "volume_softer", "volume_loudest", "volume_softest", "stopped", "emergency_check",
    "see_doctor",
)
SPOKEN_SYMBOLS = re.compile(r"[•*#|<>\[\]_~^=\\]|->|https?:")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
KNOWN_PLACEHOLDERS = {"number", "wake", "title", "first", "second"}


class ContentError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class LineDict(dict):
    """A YAML mapping that remembers the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]


class LineList(list):
    line: int = 0
    item_lines: list[int]


# The C parser (libyaml) when present: content loads several times faster.
class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    duplicate_keys: list[tuple[str, int]]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key) if not isinstance(key, str) else key
        line = key_node.start_mark.line + 1
        if key in result:
            loader.duplicate_keys.append((key, line))
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = line
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


@dataclass
class _Checker:
    """Collects problems for one file."""

    path: Path
    problems: list[str]

    def add(self, line: int | None, where: str, what: str, fix: str) -> None:
        place = f"{self.path}:{line}" if line else str(self.path)
        self.problems.append(f"{place}: {where}: {what}. Fix: {fix}")

    def keys(self, mapping: LineDict, where: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> bool:
        ok = True
        for key in mapping:
            if key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                self.add(mapping.key_lines.get(key, mapping.line), where, f"unknown key '{key}'",
                         f"remove it or rename it to one of: {allowed}")
                ok = False
        for key in required:
            if key not in mapping:
                self.add(mapping.line, where, f"missing key '{key}'", f"add '{key}:'")
                ok = False
        return ok

    def text(self, mapping: LineDict, key: str, where: str, max_words: int | None = None) -> str:
        value = mapping.get(key)
        line = mapping.key_lines.get(key, mapping.line)
        if not isinstance(value, str) or not value.strip():
            self.add(line, f"{where}, field '{key}'", "is empty or not text", "write the sentence(s) to say")
            return ""
        value = " ".join(value.split())
        if SPOKEN_SYMBOLS.search(value):
            self.add(line, f"{where}, field '{key}'", "contains symbols that sound wrong when spoken",
                     "write it as plain sentences, no bullets, arrows or markup")
        for name in PLACEHOLDER.findall(value):
            if name not in KNOWN_PLACEHOLDERS:
                self.add(line, f"{where}, field '{key}'", f"unknown placeholder {{{name}}}",
                         f"use only {', '.join('{' + p + '}' for p in sorted(KNOWN_PLACEHOLDERS))}")
        if value.count("{") != value.count("}"):
            self.add(line, f"{where}, field '{key}'", "has an unmatched brace", "write placeholders as {number}")
        if max_words is not None and len(value.split()) > max_words:
            self.add(line, f"{where}, field '{key}'",
                     f"has {len(value.split())} words; a spoken answer should be at most {max_words}",
                     "shorten it and move detail into 'more'")
        return value

    def phrases(self, container: Any, line: int, where: str, minimum: int = 1) -> tuple[str, ...]:
        if not isinstance(container, list):
            self.add(line, where, "should be a list of phrases", "write one '- phrase' per line")
            return ()
        result: list[str] = []
        seen: set[str] = set()
        item_lines = getattr(container, "item_lines", [line] * len(container))
        for item, item_line in zip(container, item_lines, strict=False):
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.add(item_line, where, f"item {item!r} is not a phrase",
                         "write plain text (quote yes, no, on and off: \"yes\")")
                continue
            phrase = " ".join(str(item).split())
            if not phrase:
                self.add(item_line, where, "has an empty phrase", "remove the empty line")
                continue
            if phrase.lower() in seen:
                self.add(item_line, where, f"phrase '{phrase}' is listed twice", "remove the duplicate")
                continue
            seen.add(phrase.lower())
            result.append(phrase)
        if len(result) < minimum:
            self.add(line, where, f"has {len(result)} phrase(s), needs at least {minimum}",
                     "add more ways people say it")
        return tuple(result)


def _read_yaml(path: Path, problems: list[str]) -> LineDict | None:
    if not path.exists():
        problems.append(f"{path}: file is missing. Fix: restore it from the original content folder")
        return None
    loader = _LineLoader(path.read_text(encoding="utf-8"))
    loader.duplicate_keys = []
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        column = f", column {mark.column + 1}" if mark else ""
        problems.append(f"{path}{line}: YAML syntax error{column}: {exc.problem}. "
                        "Fix: check indentation, colons and quotes on that line")
        return None
    except yaml.YAMLError as exc:
        problems.append(f"{path}: YAML error: {exc}. Fix: check the file's syntax")
        return None
    finally:
        loader.dispose()
    for key, line in loader.duplicate_keys:
        problems.append(f"{path}:{line}: key '{key}' appears twice. Fix: keep one of them")
    if not isinstance(data, LineDict):
        problems.append(f"{path}: expected 'key: value' entries at the top level. Fix: see the original file")
        return None
    return data


def _load_topics(path: Path, data: LineDict, problems: list[str]) -> dict[str, Topic]:
    check = _Checker(path, problems)
    topics: dict[str, Topic] = {}
    if not check.keys(data, "top level", ("topics",)):
        if "topics" not in data:
            return topics
    entries = data["topics"]
    if not isinstance(entries, list):
        check.add(data.line, "topics", "should be a list", "write each topic as '- id: ...'")
        return topics
    for entry in entries:
        if not isinstance(entry, LineDict):
            check.add(getattr(entries, "line", None), "topics", f"entry {entry!r} is not a topic",
                      "each topic needs id, title, answer, more, phrasings")
            continue
        topic_id = str(entry.get("id", "?"))
        where = f"topic '{topic_id}'"
        check.keys(entry, where, ("id", "title", "answer", "more", "phrasings"), ("keywords",))
        if topic_id not in TOPIC_IDS:
            check.add(entry.key_lines.get("id", entry.line), where, "unknown topic id",
                      f"use one of: {', '.join(TOPIC_IDS)}")
        if topic_id in topics:
            check.add(entry.line, where, "duplicate topic id", "merge the two entries or rename one")
            continue
        phr_line = entry.key_lines.get("phrasings", entry.line)
        kw_line = entry.key_lines.get("keywords", entry.line)
        topics[topic_id] = Topic(
            id=topic_id,
            title=check.text(entry, "title", where),
            answer=check.text(entry, "answer", where, MAX_ANSWER_WORDS),
            more=check.text(entry, "more", where),
            phrasings=check.phrases(entry.get("phrasings"), phr_line, f"{where}, field 'phrasings'",
                                    MIN_PHRASINGS),
            keywords=check.phrases(entry.get("keywords", []), kw_line, f"{where}, field 'keywords'", 0),
        )
    for missing in (t for t in TOPIC_IDS if t not in topics):
        check.add(None, f"topic '{missing}'", "is missing", "add it: every section of the article is covered")
    return topics


def _signal_lists(check: _Checker, data: LineDict, key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    block = data.get(key)
    if not isinstance(block, LineDict):
        check.add(data.key_lines.get(key, data.line), key, "should have 'strong:' and 'weak:' lists",
                  "see the original triage.yaml")
        return (), ()
    check.keys(block, key, ("strong", "weak"))
    strong = check.phrases(block.get("strong"), block.key_lines.get("strong", block.line), f"{key}.strong", 5)
    weak = check.phrases(block.get("weak", []), block.key_lines.get("weak", block.line), f"{key}.weak", 0)
    return strong, weak


def _load_triage(path: Path, data: LineDict, problems: list[str]) -> Triage | None:
    check = _Checker(path, problems)
    check.keys(data, "top level", ("pt_signals", "ot_signals", "difficulty_cues", "answers", "questions",
                                   "conclusions"), ("not_therapy",))
    pt_strong, pt_weak = _signal_lists(check, data, "pt_signals")
    ot_strong, ot_weak = _signal_lists(check, data, "ot_signals")
    cues = check.phrases(data.get("difficulty_cues"), data.key_lines.get("difficulty_cues", data.line),
                         "difficulty_cues", 5)
    answers: dict[str, str] = {}
    block = data.get("answers")
    if isinstance(block, LineDict):
        check.keys(block, "answers", ("pt", "ot", "both"))
        answers = {k: check.text(block, k, f"answers.{k}", MAX_ANSWER_WORDS) for k in ("pt", "ot", "both")}
    else:
        check.add(data.line, "answers", "missing or not a mapping", "give 'pt:', 'ot:' and 'both:' answers")
    conclusions: dict[str, str] = {}
    block = data.get("conclusions")
    if isinstance(block, LineDict):
        check.keys(block, "conclusions", ("pt", "ot", "both", "none"))
        conclusions = {k: check.text(block, k, f"conclusions.{k}") for k in ("pt", "ot", "both", "none")}
    else:
        check.add(data.line, "conclusions", "missing or not a mapping", "give pt, ot, both and none")
    questions: list[Question] = []
    entries = data.get("questions")
    if not isinstance(entries, list) or not entries:
        check.add(data.line, "questions", "missing or empty", "list the yes/no questions")
    else:
        for entry in entries:
            if not isinstance(entry, LineDict):
                check.add(entries.line, "questions", f"entry {entry!r} is not a question", "give id, text, signals")
                continue
            where = f"question '{entry.get('id', '?')}'"
            check.keys(entry, where, ("id", "text", "signals"))
            signals = entry.get("signals")
            if signals not in ("pt", "ot"):
                check.add(entry.key_lines.get("signals", entry.line), where,
                          f"signals '{signals}' refers to no disposition", "use pt or ot")
            questions.append(Question(id=str(entry.get("id")), text=check.text(entry, "text", where),
                                      signals=str(signals)))
        if {q.signals for q in questions} != {"pt", "ot"}:
            check.add(entries.line, "questions", "must ask at least one pt and one ot question",
                      "add the missing question")
    not_therapy = check.phrases(data.get("not_therapy", []), data.key_lines.get("not_therapy", data.line),
                                "not_therapy", 0)
    return Triage(pt_strong=pt_strong, pt_weak=pt_weak, ot_strong=ot_strong, ot_weak=ot_weak,
                  difficulty_cues=cues, answers=answers, questions=tuple(questions), conclusions=conclusions,
                  not_therapy=not_therapy)


def _load_red_flags(path: Path, data: LineDict, problems: list[str]) -> RedFlags:
    check = _Checker(path, problems)
    check.keys(data, "top level", ("answer", "not_emergency", "rules"), ("heard_as", "negation", "someone"))
    answer = check.text(data, "answer", "answer")
    if answer and "{number}" not in answer:
        check.add(data.key_lines.get("answer"), "answer", "does not say the emergency number",
                  "include {number} where the number should be spoken")
    not_emergency = check.phrases(data.get("not_emergency", []),
                                  data.key_lines.get("not_emergency", data.line), "not_emergency", 0)
    rules: list[RedFlag] = []
    seen: set[str] = set()
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        check.add(data.line, "rules", "missing or empty", "list the red flags")
        entries = []
    for entry in entries:
        if not isinstance(entry, LineDict):
            check.add(getattr(entries, "line", None), "rules", f"entry {entry!r} is not a rule", "give id and phrases")
            continue
        rule_id = str(entry.get("id", "?"))
        where = f"red flag '{rule_id}'"
        check.keys(entry, where, ("id", "phrases"), ("combos", "listen_for"))
        if rule_id in seen:
            check.add(entry.line, where, "duplicate red flag id", "merge the two rules or rename one")
        seen.add(rule_id)
        phrases = check.phrases(entry.get("phrases"), entry.key_lines.get("phrases", entry.line),
                                f"{where}, field 'phrases'", 1)
        combos: list[tuple[tuple[str, ...], ...]] = []
        raw_combos = entry.get("combos", [])
        combo_lines = getattr(raw_combos, "item_lines", [])
        for combo, line in zip(raw_combos if isinstance(raw_combos, list) else [], combo_lines, strict=False):
            if not isinstance(combo, list) or len(combo) < 2 or not all(isinstance(g, list) for g in combo):
                check.add(line, f"{where}, field 'combos'", "a combo must be a list of two or more word lists",
                          "write it as [[face, mouth], [drooping, numb]]")
                continue
            combos.append(tuple(check.phrases(group, line, f"{where}, combo", 1) for group in combo))
        listen_for = check.phrases(entry.get("listen_for", []), entry.key_lines.get("listen_for", entry.line),
                                   f"{where}, field 'listen_for'", 0)
        rules.append(RedFlag(id=rule_id, phrases=phrases, combos=tuple(combos), listen_for=listen_for))
    heard_as: dict[str, tuple[str, ...]] = {}
    block = data.get("heard_as")
    if block is None:
        pass
    elif not isinstance(block, LineDict):
        check.add(data.key_lines.get("heard_as", data.line), "heard_as", "not a mapping",
                  "write 'red-flag word: [what the recognizer writes for it]'")
    else:
        heard_as = {str(word): check.phrases(variants, block.key_lines[word], f"heard_as '{word}'", 1)
                    for word, variants in block.items()}
    extra: dict[str, Any] = {}
    negation = data.get("negation")
    if negation is not None:
        if isinstance(negation, LineDict) and check.keys(negation, "negation", ("words", "between")):
            extra["negations"] = check.phrases(negation.get("words"), negation.key_lines.get("words", negation.line),
                                               "negation, field 'words'", 1)
            extra["negation_between"] = check.phrases(negation.get("between"),
                                                      negation.key_lines.get("between", negation.line),
                                                      "negation, field 'between'", 0)
        elif not isinstance(negation, LineDict):
            check.add(data.key_lines.get("negation", data.line), "negation", "not a mapping",
                      "write 'words: [no, not]' and 'between: [have, any]' under it")
    if "someone" in data:
        extra["someone"] = check.phrases(data.get("someone"), data.key_lines.get("someone", data.line), "someone", 1)
    for rule in rules:
        for phrase in rule.phrases:
            if "{someone}" in phrase and not extra.get("someone"):
                check.add(data.key_lines.get("rules", data.line), f"red flag '{rule.id}'",
                          f"phrase '{phrase}' uses {{someone}} but 'someone' lists nobody",
                          "add 'someone: [i, he, she, ...]' at the top level")
                break
    return RedFlags(rules=tuple(rules), not_emergency=not_emergency, answer=answer, heard_as=heard_as, **extra)


def _load_commands(path: Path, data: LineDict, problems: list[str]) -> dict[str, Command]:
    check = _Checker(path, problems)
    check.keys(data, "top level", ("commands",))
    block = data.get("commands")
    commands: dict[str, Command] = {}
    if not isinstance(block, LineDict):
        check.add(data.line, "commands", "missing or not a mapping", "list each command with its phrasings")
        return commands
    check.keys(block, "commands", COMMAND_IDS)
    for command_id in COMMAND_IDS:
        if command_id in block:
            phrasings = check.phrases(block[command_id], block.key_lines[command_id],
                                      f"command '{command_id}'", 3)
            commands[command_id] = Command(id=command_id, phrasings=phrasings)
    return commands


def _load_messages(path: Path, data: LineDict, problems: list[str]) -> dict[str, str]:
    check = _Checker(path, problems)
    check.keys(data, "top level", REQUIRED_MESSAGES)
    return {key: check.text(data, key, f"message '{key}'") for key in REQUIRED_MESSAGES if key in data}


def _load_synonyms(path: Path, data: LineDict, problems: list[str]) -> dict[str, tuple[str, ...]]:
    check = _Checker(path, problems)
    check.keys(data, "top level", ("synonyms",))
    block = data.get("synonyms")
    if not isinstance(block, LineDict):
        check.add(data.line, "synonyms", "missing or not a mapping", "write 'canonical: [variants]'")
        return {}
    return {str(canonical): check.phrases(variants, block.key_lines[canonical], f"synonym '{canonical}'", 1)
            for canonical, variants in block.items()}


def _check_unexpected_files(directory: Path, problems: list[str]) -> None:
    for path in sorted(directory.glob("*.y*ml")):
        if path.name not in CONTENT_FILES:
            problems.append(f"{path}: unexpected content file. Fix: content lives in {', '.join(CONTENT_FILES)};"
                            " move this file out of the folder or merge it into one of them")


def load_content(directory: Path) -> Content:
    """Load every content file in `directory`; raise ContentError listing every problem found."""
    directory = Path(directory)
    problems: list[str] = []
    if not directory.is_dir():
        raise ContentError([f"{directory}: content folder not found. Fix: pass --content with the folder "
                            "that holds topics.yaml, triage.yaml, red_flags.yaml, commands.yaml, messages.yaml"])
    _check_unexpected_files(directory, problems)
    loaders: dict[str, Callable[[Path, LineDict, list[str]], Any]] = {
        "topics.yaml": _load_topics,
        "triage.yaml": _load_triage,
        "red_flags.yaml": _load_red_flags,
        "commands.yaml": _load_commands,
        "messages.yaml": _load_messages,
        "synonyms.yaml": _load_synonyms,
    }
    loaded: dict[str, Any] = {}
    for name, load in loaders.items():
        path = directory / name
        data = _read_yaml(path, problems)
        loaded[name] = load(path, data, problems) if data is not None else None
    if problems:
        raise ContentError(problems)
    return Content(
        topics=loaded["topics.yaml"],
        triage=loaded["triage.yaml"],
        red_flags=loaded["red_flags.yaml"],
        commands=loaded["commands.yaml"],
        messages=loaded["messages.yaml"],
        synonyms=loaded["synonyms.yaml"],
        source_dir=directory,
    )
