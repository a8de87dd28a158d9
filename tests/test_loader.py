"""Content validation: a corpus of broken content folders, each giving its precise problem (file, line, what is
wrong, how to fix it); `assistant content check` on broken copies; `--content DIR` honoured by `assistant ask`.

Each broken folder is a fresh copy of content/ with one targeted edit, so the tests follow the real content
as it changes. Whole-file breakages (bad YAML, an extra file) live in tests/broken_content/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from assistant.core.content import TOPIC_IDS
from assistant.core.loader import CONTENT_FILES, MAX_ANSWER_WORDS, MIN_PHRASINGS, ContentError, load_content

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
CORPUS = Path(__file__).resolve().parent / "broken_content"
ASSISTANT = [sys.executable, "-m", "assistant"]
PLACEHOLDER_FIX = "use only {first}, {number}, {second}, {title}, {wake}"


# -- helpers ------------------------------------------------------------------------------------------

@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of the real content (with its test sentences) to break."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(directory)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def replace_once(path: Path, old: str, new: str) -> int:
    """Replace the one occurrence of `old`; return the 1-based line where `new` starts."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path.name}"
    start = text.index(old)
    path.write_text(text[:start] + new + text[start + len(old):], encoding="utf-8")
    return text.count("\n", 0, start) + 1


def topic_block(lines: list[str], topic_id: str) -> tuple[int, int]:
    """0-based [start, end) line range of one topic entry in topics.yaml."""
    start = next(i for i, line in enumerate(lines) if line.strip() == f"- id: {topic_id}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id: ")
                and lines[i].index("-") == lines[start].index("-")), len(lines))
    return start, end


def replace_topic_field(path: Path, topic_id: str, field: str, new: list[str]) -> int:
    """Replace one field (key line and its indented continuation) of a topic; return its 1-based line."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start, end = topic_block(lines, topic_id)
    indent = lines[start].index("-") + 2
    key = next(i for i in range(start + 1, end) if lines[i].startswith(" " * indent + f"{field}:"))
    stop = key + 1
    while stop < end and lines[stop].startswith(" " * (indent + 1)):  # the value's continuation lines
        stop += 1
    lines[key:stop] = [" " * indent + line + "\n" for line in new]
    path.write_text("".join(lines), encoding="utf-8")
    return key + 1


def run_cli(*args: str, env_extra: dict[str, str] | None = None, stdin: str | None = None,
            tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_CONFIG": str(tmp / "no-config.yaml"), "XDG_DATA_HOME": str(tmp / "data"),
           **(env_extra or {})}
    return subprocess.run([*ASSISTANT, *args], input=stdin, capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)


# -- the good content -----------------------------------------------------------------------------------

def test_real_content_loads_completely():
    content = load_content(CONTENT)
    assert set(content.topics) == set(TOPIC_IDS)
    assert all(len(topic.phrasings) >= MIN_PHRASINGS for topic in content.topics.values())
    assert all(len(topic.answer.split()) <= MAX_ANSWER_WORDS for topic in content.topics.values())
    assert content.source_dir == CONTENT


def test_missing_folder_says_what_to_pass(tmp_path: Path):
    problems = problems_of(tmp_path / "nowhere")
    assert problems == [f"{tmp_path / 'nowhere'}: content folder not found. Fix: pass --content with the folder "
                        "that holds topics.yaml, triage.yaml, red_flags.yaml, commands.yaml, messages.yaml"]


# -- the corpus: one targeted breakage each -------------------------------------------------------------

def test_unknown_key(copy: Path):
    path = copy / "topics.yaml"
    line = replace_once(path, "  - id: pt.what\n", "  - id: pt.what\n    answr: Physical therapy helps.\n") + 1
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'pt.what': unknown key 'answr'. Fix: remove it or rename it to one of: "
        "id, title, answer, more, phrasings, keywords"]


def test_heard_as_must_map_red_flag_words_to_phrases(copy: Path):
    path = copy / "red_flags.yaml"
    line = replace_once(path, "  fall: [foul]\n", "  fall: foul\n")
    assert problems_of(copy) == [
        f"{path}:{line}: heard_as 'fall': should be a list of phrases. Fix: write one '- phrase' per line"]


def test_duplicate_topic_id(copy: Path):
    path = copy / "topics.yaml"
    line = replace_once(path, "  - id: pt.goals\n", "  - id: pt.what\n")
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'pt.what': duplicate topic id. Fix: merge the two entries or rename one",
        f"{path}: topic 'pt.goals': is missing. Fix: add it: every section of the article is covered"]


def test_unknown_topic_id(copy: Path):
    path = copy / "topics.yaml"
    line = replace_once(path, "  - id: settings\n", "  - id: prices\n")
    problems = problems_of(copy)
    assert problems[0] == (f"{path}:{line}: topic 'prices': unknown topic id. Fix: use one of: "
                           + ", ".join(TOPIC_IDS))
    assert f"{path}: topic 'settings': is missing. Fix: add it: every section of the article is covered" in problems


def test_duplicate_yaml_key(copy: Path):
    path = copy / "messages.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "help: Say repeat, slower or stop.\n", encoding="utf-8")
    line = text.count("\n") + 1
    assert problems_of(copy) == [f"{path}:{line}: key 'help' appears twice. Fix: keep one of them"]


def test_empty_answer(copy: Path):
    path = copy / "topics.yaml"
    line = replace_topic_field(path, "ot.what", "answer", ['answer: ""'])
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'ot.what', field 'answer': is empty or not text. Fix: write the sentence(s) to say"]


def test_too_few_phrasings(copy: Path):
    path = copy / "topics.yaml"
    line = replace_topic_field(path, "compare", "phrasings",
                               ["phrasings:", "  - how is pt different from ot", "  - ot versus pt"])
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'compare', field 'phrasings': has 2 phrase(s), needs at least {MIN_PHRASINGS}. "
        "Fix: add more ways people say it"]


def test_duplicate_phrase(copy: Path):
    path = copy / "topics.yaml"
    first = load_content(CONTENT).topics["which"].phrasings[0]
    line = replace_topic_field(path, "which", "phrasings", ["phrasings:"] + [
        f"  - {p}" for p in (first, *load_content(CONTENT).topics["which"].phrasings)])
    assert problems_of(copy) == [
        f"{path}:{line + 2}: topic 'which', field 'phrasings': phrase '{first}' is listed twice. "
        "Fix: remove the duplicate"]


def test_dangling_questionnaire_reference(copy: Path):
    path = copy / "triage.yaml"
    questions = yaml.safe_load(path.read_text(encoding="utf-8"))["questions"]
    ot_question = next(q["id"] for q in questions if q["signals"] == "ot")
    line = replace_once(path, "    signals: ot\n", "    signals: xyz\n")
    problems = problems_of(copy)
    assert problems[0] == (f"{path}:{line}: question '{ot_question}': signals 'xyz' refers to no disposition. "
                           "Fix: use pt or ot")
    assert re.fullmatch(rf"{re.escape(str(path))}:\d+: questions: must ask at least one pt and one ot question\. "
                        r"Fix: add the missing question", problems[1])
    assert len(problems) == 2


def test_missing_topic(copy: Path):
    path = copy / "topics.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start, end = topic_block(lines, "settings")
    path.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")
    assert problems_of(copy) == [
        f"{path}: topic 'settings': is missing. Fix: add it: every section of the article is covered"]


def test_answer_too_long(copy: Path):
    path = copy / "topics.yaml"
    words = " ".join(["Physical therapy helps you move better."] * 10)  # 60 words
    line = replace_topic_field(path, "pt.what", "answer", [f"answer: {words}"])
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'pt.what', field 'answer': has 60 words; a spoken answer should be at most "
        f"{MAX_ANSWER_WORDS}. Fix: shorten it and move detail into 'more'"]


def test_spoken_symbols(copy: Path):
    path = copy / "topics.yaml"
    line = replace_topic_field(path, "ot.goals", "title", ["title: goals -> independence"])
    assert problems_of(copy) == [
        f"{path}:{line}: topic 'ot.goals', field 'title': contains symbols that sound wrong when spoken. "
        "Fix: write it as plain sentences, no bullets, arrows or markup"]


def test_unknown_placeholder(copy: Path):
    path = copy / "red_flags.yaml"
    text = path.read_text(encoding="utf-8")
    answer_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("answer:"))
    path.write_text(text.replace("Call {number} now", "Call {numbr} now", 1), encoding="utf-8")
    assert problems_of(copy) == [
        f"{path}:{answer_line}: answer, field 'answer': unknown placeholder {{numbr}}. Fix: {PLACEHOLDER_FIX}"]


def test_emergency_answer_without_the_number(copy: Path):
    path = copy / "red_flags.yaml"
    text = path.read_text(encoding="utf-8")
    answer_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("answer:"))
    path.write_text(text.replace("{number}", "the emergency number"), encoding="utf-8")
    assert problems_of(copy) == [
        f"{path}:{answer_line}: answer: does not say the emergency number. "
        "Fix: include {number} where the number should be spoken"]


def test_unquoted_yes_and_no(copy: Path):
    """YAML reads bare yes/no as booleans: the problem names the line and says to quote them."""
    path = copy / "commands.yaml"
    yes_line = replace_once(path, '  "yes":\n', "  yes:\n")
    no_item = replace_once(path, '    - "nope"\n', "    - no\n")
    problems = problems_of(copy)
    assert f"{path}:{yes_line}: commands: unknown key 'True'. Fix: remove it or rename it to one of: repeat, " \
           "slower, faster, louder, softer, stop, help, goodbye, yes, no, more" in problems
    assert f"{path}:{no_item}: command 'no': item False is not a phrase. " \
           "Fix: write plain text (quote yes, no, on and off: \"yes\")" in problems


def test_missing_file(copy: Path):
    (copy / "commands.yaml").unlink()
    assert problems_of(copy) == [
        f"{copy / 'commands.yaml'}: file is missing. Fix: restore it from the original content folder"]


def test_unexpected_extra_file(copy: Path):
    shutil.copy(CORPUS / "notes.yaml", copy / "notes.yaml")
    assert problems_of(copy) == [
        f"{copy / 'notes.yaml'}: unexpected content file. Fix: content lives in {', '.join(CONTENT_FILES)}; "
        "move this file out of the folder or merge it into one of them"]


def test_tab_indentation(copy: Path):
    shutil.copy(CORPUS / "tab_indentation.yaml", copy / "commands.yaml")
    [problem] = problems_of(copy)
    # libyaml omits the character itself; pure-Python PyYAML writes '\t'
    assert re.fullmatch(rf"{re.escape(str(copy / 'commands.yaml'))}:4: YAML syntax error, column 1: found "
                        r"character ('\\t' )?that cannot start any token\. Fix: check indentation, colons and "
                        r"quotes on that line", problem), problem


def test_unclosed_quote(copy: Path):
    shutil.copy(CORPUS / "unclosed_quote.yaml", copy / "messages.yaml")
    [problem] = problems_of(copy)
    assert problem.startswith(f"{copy / 'messages.yaml'}:")
    assert re.search(r":\d+: YAML syntax error, column \d+: found unexpected end of stream\. Fix: check "
                     r"indentation, colons and quotes on that line$", problem), problem


def test_not_a_mapping(copy: Path):
    shutil.copy(CORPUS / "not_a_mapping.yaml", copy / "synonyms.yaml")
    assert problems_of(copy) == [
        f"{copy / 'synonyms.yaml'}: expected 'key: value' entries at the top level. Fix: see the original file"]


def test_every_problem_is_listed_not_just_the_first(copy: Path):
    replace_once(copy / "topics.yaml", "  - id: pt.what\n", "  - id: pt.what\n    answr: x\n")
    (copy / "commands.yaml").unlink()
    shutil.copy(CORPUS / "tab_indentation.yaml", copy / "synonyms.yaml")
    shutil.copy(CORPUS / "notes.yaml", copy / "notes.yaml")
    problems = problems_of(copy)
    assert len(problems) == 4
    for name in ("topics.yaml", "commands.yaml", "synonyms.yaml", "notes.yaml"):
        assert sum(problem.startswith(str(copy / name)) for problem in problems) == 1, name


# -- `assistant content check` ----------------------------------------------------------------------------

def test_content_check_on_good_content(tmp_path: Path):
    result = run_cli("content", "check", tmp=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    summary, sentences = lines[0], lines[-1]
    content = load_content(CONTENT)
    phrasings = sum(len(t.phrasings) for t in content.topics.values())
    assert summary.startswith(f"{CONTENT}: OK: 13 topics, {phrasings} phrasings, "
                              f"{len(content.red_flags.rules)} red flags")
    assert summary.endswith(f"{len(content.commands)} commands")
    assert re.fullmatch(r"All \d+ test sentences pass\.", sentences)
    # the red-flag sheet's recall and false alarms, per red flag, on the sheet and on its held-out part
    assert "red-flag sheet:" in lines and any(line.startswith("held-out red-flag sheet") for line in lines)
    for rule in content.red_flags.rules:
        rows = [line.split() for line in lines if line.split()[:1] == [rule.id]]
        assert len(rows) == 2, rule.id
        caught, total = rows[0][1].split("/")
        assert caught == total and rows[0][2] == "100.0%" and rows[0][3] == "0"  # the sheet itself always passes


def test_content_check_names_each_problem_of_a_broken_copy(copy: Path, tmp_path: Path):
    topics = copy / "topics.yaml"
    unknown_line = replace_once(topics, "  - id: pt.what\n", "  - id: pt.what\n    answr: x\n") + 1
    empty_line = replace_topic_field(topics, "ot.what", "answer", ['answer: ""'])
    (copy / "commands.yaml").unlink()
    shutil.copy(CORPUS / "notes.yaml", copy / "notes.yaml")
    result = run_cli("content", "check", str(copy), tmp=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 4, result.stdout
    assert any(line.startswith(f"{topics}:{unknown_line}: topic 'pt.what': unknown key 'answr'") for line in lines)
    assert any(line.startswith(f"{topics}:{empty_line}: topic 'ot.what', field 'answer': is empty") for line in lines)
    assert f"{copy / 'commands.yaml'}: file is missing. Fix: restore it from the original content folder" in lines
    assert any(line.startswith(f"{copy / 'notes.yaml'}: unexpected content file") for line in lines)
    assert "4 problem(s)" in result.stderr


def test_content_check_uses_the_content_option(copy: Path, tmp_path: Path):
    (copy / "triage.yaml").unlink()
    result = run_cli("content", "check", "--content", str(copy), tmp=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{copy / 'triage.yaml'}: file is missing. Fix: restore it from the original content folder"]


def test_content_check_reports_a_failing_test_sentence(copy: Path, tmp_path: Path):
    """A clinician who breaks understanding sees which test sentence, where, and what came out instead."""
    path = copy / "tests" / "mine.yaml"
    path.write_text("- sentences:\n    - what is o t\n    - i can't breathe\n  expect: {kind: topic, "
                    "topic: pt.what}\n", encoding="utf-8")
    result = run_cli("content", "check", str(copy), tmp=tmp_path)
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if "test sentence" in line]
    assert failures == [
        f"{path}:2: test sentence 'what is o t': expected topic pt.what, got topic ot.what. Fix: add a phrasing, "
        "keyword or signal to the content, or correct the expectation",
        f"{path}:3: test sentence 'i can't breathe': expected topic pt.what, got triage emergency. Fix: add a "
        "phrasing, keyword or signal to the content, or correct the expectation"]
    assert re.search(r"2 of \d+ test sentences failed", result.stderr)


def test_content_check_reports_a_malformed_test_file(copy: Path, tmp_path: Path):
    path = copy / "tests" / "mine.yaml"
    path.write_text("- sentences: [what is o t]\n  expect: {kind: topic, topic: pt.cost}\n"
                    "- sentences: []\n  expect: {kind: chat}\n  note: hi\n", encoding="utf-8")
    result = run_cli("content", "check", str(copy), tmp=tmp_path)
    assert result.returncode == 1
    lines = result.stdout.splitlines()[1:]
    assert lines[0].startswith(f"{path}:2: topic 'pt.cost' does not exist. Fix: use one of pt.what, ")
    assert any(line.startswith(f"{path}:3: unknown key 'note'. Fix: use only 'sentences' and 'expect'")
               for line in lines)
    assert any(line.startswith(f"{path}:4: kind 'chat' does not exist") for line in lines)
    assert f"{path}:3: 'sentences' is missing or empty. Fix: list the sentences to test" in lines


# -- `--content DIR`: a clinician's own content is what the assistant answers from ------------------------

def test_ask_answers_from_the_content_option(copy: Path, tmp_path: Path):
    mine = "Occupational therapy, as our clinic explains it, helps you get back to the things you do every day."
    replace_topic_field(copy / "topics.yaml", "ot.what", "answer", [f"answer: {mine}"])
    result = run_cli("ask", "--content", str(copy), "--json", "--no-speak", "what is o t", tmp=tmp_path)
    assert result.returncode == 0, result.stderr
    decision = json.loads(result.stdout)
    assert (decision["topic"], decision["answer"]) == ("ot.what", mine)

    result = run_cli("ask", "--json", "--no-speak", "what is o t", tmp=tmp_path)
    assert json.loads(result.stdout)["answer"] == load_content(CONTENT).topics["ot.what"].answer


def test_ask_refuses_broken_content_with_the_problems(copy: Path, tmp_path: Path):
    (copy / "messages.yaml").unlink()
    result = run_cli("ask", "--content", str(copy), "--json", "--no-speak", "what is o t", tmp=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{copy / 'messages.yaml'}: file is missing" in result.stderr
    assert "assistant content check" in result.stderr
