"""`assistant ask`, the scripting surface, through real subprocesses (console script and `python -m`).

Contract (DESIGN.md): one JSON object per input, in input order, on stdout, with exactly the keys input,
transcript, kind, topic, disposition, command, answer, confidence, confirm (unused ones null); logs on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.core.loader import load_content

REPO = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "assistant"
KEYS = ["input", "transcript", "kind", "topic", "disposition", "command", "answer", "confidence", "confirm"]


@pytest.fixture(scope="module")
def content():
    return load_content(REPO / "content")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No user config or data leaks into the test (and none is written to the real home)."""
    return {**os.environ, "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "XDG_DATA_HOME": str(tmp_path / "d"),
            "XDG_CONFIG_HOME": str(tmp_path / "c")}


def ask(*args: str, env: dict[str, str], stdin: str | None = None, module: bool = False
        ) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "assistant"] if module else [str(SCRIPT)]
    return subprocess.run([*command, "ask", *args], input=stdin, capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=60)


def json_lines(stdout: str) -> list[dict]:
    lines = stdout.splitlines()
    decoded = [json.loads(line) for line in lines]  # every stdout line is JSON, nothing else
    for decision in decoded:
        assert list(decision) == KEYS
    return decoded


def test_the_done_when_example(env, content):
    """printf 'what is o t\\nmy knee hurts when i walk\\n' | assistant ask - --json --no-speak"""
    result = ask("-", "--json", "--no-speak", env=env, stdin="what is o t\nmy knee hurts when i walk\n")
    assert result.returncode == 0, result.stderr
    first, second = json_lines(result.stdout)
    assert first == {
        "input": "what is o t", "transcript": None, "kind": "topic", "topic": "ot.what", "disposition": None,
        "command": None, "answer": content.topics["ot.what"].answer, "confidence": first["confidence"],
        "confirm": False}
    assert 0.5 < first["confidence"] <= 1.0
    assert second == {
        "input": "my knee hurts when i walk", "transcript": None, "kind": "triage", "topic": None,
        "disposition": "pt", "command": None, "answer": content.triage.answers["pt"],
        "confidence": second["confidence"], "confirm": False}


def test_one_line_per_input_in_input_order(env, content):
    questions = ["slower please", "i can't do up my buttons", "what's the weather", "", "my chest hurts",
                 "what is the difference between physio and o t", "Qu\u2019est-ce que c\u2019est ?"]
    result = ask("-", "--json", "--no-speak", env=env, stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    decisions = json_lines(result.stdout)
    assert [d["input"] for d in decisions] == questions
    assert [(d["kind"], d["topic"] or d["disposition"] or d["command"]) for d in decisions] == [
        ("command", "slower"), ("triage", "ot"), ("unknown", None), ("unknown", None), ("triage", "emergency"),
        ("topic", "compare"), ("unknown", None)]
    assert "911" in decisions[4]["answer"]


def test_a_single_question_from_the_arguments(env, content):
    quoted = ask("what is occupational therapy", "--json", "--no-speak", env=env)
    words = ask("what", "is", "occupational", "therapy", "--json", "--no-speak", env=env)
    assert quoted.returncode == words.returncode == 0, quoted.stderr + words.stderr
    assert json_lines(quoted.stdout) == json_lines(words.stdout)
    [decision] = json_lines(quoted.stdout)
    assert decision["input"] == "what is occupational therapy"
    assert decision["answer"] == content.topics["ot.what"].answer


def test_plain_output_is_the_answer_only(env, content):
    result = ask("where do physical therapists work", "--no-speak", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == content.topics["settings"].answer + "\n"


def test_python_dash_m_is_the_same_program(env):
    by_script = ask("-", "--json", "--no-speak", env=env, stdin="what is p t\ni keep losing my balance\n")
    by_module = ask("-", "--json", "--no-speak", env=env, stdin="what is p t\ni keep losing my balance\n",
                    module=True)
    assert by_module.returncode == 0, by_module.stderr
    assert by_module.stdout == by_script.stdout
    assert [d["topic"] or d["disposition"] for d in json_lines(by_module.stdout)] == ["pt.what", "pt"]


def test_stdout_has_only_json_while_logs_go_to_stderr(env, tmp_path: Path):
    # -v turns on debug logging: it must all go to stderr
    result = ask("-v", "-", "--json", "--no-speak", env=env, stdin="what is o t\nrepeat that\n")
    assert result.returncode == 0, result.stderr
    assert len(json_lines(result.stdout)) == 2
    # a content problem is reported on stderr; stdout stays empty
    broken = tmp_path / "content"
    broken.mkdir()
    result = ask("--content", str(broken), "-", "--json", "--no-speak", env=env, stdin="what is o t\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{broken / 'topics.yaml'}: file is missing" in result.stderr


def test_unicode_is_kept_as_typed(env):
    result = ask("what\u2019s O.T.?", "--json", "--no-speak", env=env)
    [decision] = json_lines(result.stdout)
    assert decision["input"] == "what\u2019s O.T.?" and decision["topic"] == "ot.what"
    assert "\u2019" in result.stdout  # not escaped to \\u2019: readable in a terminal


def test_no_question_is_a_clear_error(env):
    result = ask("--json", "--no-speak", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "assistant ask: give a question, '-' to read questions from stdin, or --audio FILE..." in result.stderr


def test_empty_stdin_gives_no_lines(env):
    result = ask("-", "--json", "--no-speak", env=env, stdin="")
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize("number", ["999", "112"])
def test_emergency_number_from_the_option(env, number: str):
    result = ask("--emergency-number", number, "my wife collapsed", "--json", "--no-speak", env=env)
    [decision] = json_lines(result.stdout)
    assert decision["disposition"] == "emergency"
    assert number in decision["answer"] and "911" not in decision["answer"]


def test_emergency_number_from_the_config_file(env, tmp_path: Path):
    Path(env["ASSISTANT_CONFIG"]).write_text("emergency_number: '999'\n", encoding="utf-8")
    result = ask("i can't breathe", "--json", "--no-speak", env=env)
    [decision] = json_lines(result.stdout)
    assert "999" in decision["answer"] and "911" not in decision["answer"]
