"""The test sentences kept beside the content (content/tests/*.yaml), one pytest id per sentence.

The same files are run by `assistant content check`, so a clinician who edits the content sees the same
result without pytest. Emergencies among them must always pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.caregiver.content_check import SentenceCase, read_sentence_tests
from assistant.core.content import COMMAND_IDS, TOPIC_IDS
from assistant.core.normalize import basic_tokens
from assistant.core.understanding import Understander

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content"
SENTENCES = CONTENT / "tests"

CASES, PROBLEMS = read_sentence_tests(SENTENCES)


def _case_id(case: SentenceCase) -> str:
    return f"{case.file.stem}:{case.line}:{case.sentence}"


def test_sentence_files_are_valid(content):
    cases, problems = read_sentence_tests(SENTENCES, content)
    assert problems == []
    assert len(cases) >= 200


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_sentence(case: SentenceCase, understander: Understander):
    decision = understander.understand(case.sentence)
    assert case.mismatch(decision) is None, f"{case.place}: '{case.sentence}': {case.mismatch(decision)}"


def _expected(kind: str, field: str) -> set[str]:
    return {case.expect[field] for case in CASES if case.expect["kind"] == kind and case.expect[field]}


def test_every_topic_command_and_disposition_has_test_sentences():
    assert _expected("topic", "topic") == set(TOPIC_IDS)
    assert _expected("triage", "disposition") == {"pt", "ot", "both", "emergency"}
    assert _expected("command", "command") == set(COMMAND_IDS)
    assert any(case.expect["kind"] == "unknown" for case in CASES)


def test_every_red_flag_kind_is_exercised(content, understander):
    """Each red flag rule is what fires for at least one emergency test sentence."""
    emergencies = [case.sentence for case in CASES if case.expect["disposition"] == "emergency"]
    assert len(emergencies) >= 50
    fired = {understander.red_flag(text) for text in emergencies}  # which rule fired is not in the Decision
    assert fired >= {rule.id for rule in content.red_flags.rules}


def test_sentences_are_not_copies_of_content_phrasings(content):
    """Test sentences measure generalization: a sentence identical (once normalized) to a phrasing tests nothing."""
    def norm(text: str) -> str:
        return " ".join(basic_tokens(text))

    phrasings = {norm(p) for topic in content.topics.values() for p in topic.phrasings}
    phrasings |= {norm(p) for command in content.commands.values() for p in command.phrasings}
    phrasings |= {norm(p) for rule in content.red_flags.rules for p in rule.phrases}
    phrasings.discard("")
    copies = [case.place for case in CASES if norm(case.sentence) in phrasings]
    assert copies == []
