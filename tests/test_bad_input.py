"""Bad input never breaks the understanding, the dialog or `assistant ask -`.

Property-based (hypothesis): random and adversarial text of every kind (up to 100,000 characters; any
unicode incl. right-to-left scripts, emoji, combining marks, control characters, NUL, lone surrogates;
only punctuation, only digits, repeated words, salads of the content's own words) always gives a valid
Decision; a known emergency phrase inside noise stays an emergency; the dialog fed random sequences of
noise, commands and questions always returns a valid Reply. Then the real CLI reads a file of nasty lines.

The examples are derandomized (fixed for CI) and modest in number, so the file runs in well under 30 s.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from assistant.caregiver.content_check import read_sentence_tests
from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.content import COMMAND_IDS, DISPOSITIONS, TOPIC_IDS
from assistant.core.decision import Decision
from assistant.core.dialog import Dialog, Mode, Reply
from assistant.core.loader import load_content
from assistant.core.normalize import basic_tokens, find_phrase, stems
from assistant.core.speech_settings import RATE_MAX, RATE_MIN, VOLUME_MAX, VOLUME_MIN
from assistant.core.understanding import Understander

REPO = Path(__file__).resolve().parent.parent
CONTENT = load_content(DEFAULT_CONTENT_DIR)
NUMBER = "112"
UNDERSTANDER = Understander(CONTENT, emergency_number=NUMBER)
EMERGENCY = CONTENT.red_flags.answer.format(number=NUMBER)
NEGATIONS = frozenset(CONTENT.red_flags.negations)
KINDS = ("topic", "triage", "command", "unknown")
WAKE = "hey coach"

# Fixed examples (same every run, in CI too), few enough to stay fast; no per-example deadline because
# a loaded CI machine is slow and speed is the benchmarks' job, not these tests'. To hunt for new bugs,
# BAD_INPUT_EXAMPLES=5000 pytest tests/test_bad_input.py runs that many fresh random examples instead.
EXPLORE = int(os.environ.get("BAD_INPUT_EXAMPLES", "0"))
FAST = settings(max_examples=EXPLORE or 200, derandomize=not EXPLORE, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])
FEW = settings(FAST, max_examples=max(25, EXPLORE // 20))


# ----- what a valid answer is --------------------------------------------------------------------------------

def _message_texts(understander: Understander, wake: str = "") -> set[str]:
    titles = [topic.title for topic in CONTENT.topics.values()]
    texts = {understander.message(key, wake=wake) for key in CONTENT.messages if not key.startswith("did_you")}
    texts |= {understander.message("did_you_mean", title=title, wake=wake) for title in titles}
    texts |= {understander.message("did_you_mean_two", first=a, second=b, wake=wake)
              for a in titles for b in titles if a != b}
    return texts


# Every sentence understand() may answer with: the content's answers, or one of its fixed messages.
UNDERSTAND_ANSWERS = (
    {topic.answer for topic in CONTENT.topics.values()}
    | set(CONTENT.triage.answers.values())
    | {EMERGENCY}
    | _message_texts(UNDERSTANDER)
)


def _dialog_texts(wake: str | None) -> set[str]:
    """Every text the dialog may say: the above, plus 'more' texts, the questionnaire and the emergency
    said twice; and '' (after "stop")."""
    questions = [q.text for q in CONTENT.triage.questions]
    messages = CONTENT.messages
    return (
        UNDERSTAND_ANSWERS
        | _message_texts(UNDERSTANDER, wake or "")
        | {topic.more for topic in CONTENT.topics.values()}
        | set(questions)
        | set(CONTENT.triage.conclusions.values())
        | {f"{messages['questionnaire_intro']} {questions[0]}"}
        | {f"{messages['yes_no_please']} {q}" for q in questions}
        | {f"{EMERGENCY} {EMERGENCY}", ""}
        | {_greeting(wake)}  # "repeat" right after the greeting
    )


def _greeting(wake: str | None) -> str:
    greeting = UNDERSTANDER.message("greeting")
    return f"{greeting} {UNDERSTANDER.message('greeting_wake', wake=wake)}" if wake else greeting


DIALOG_TEXTS = {wake: _dialog_texts(wake) for wake in (None, WAKE)}


def assert_valid_decision(decision: Decision, text: str) -> None:
    assert isinstance(decision, Decision)
    assert decision.input == text
    assert decision.kind in KINDS
    assert decision.topic is None or decision.topic in TOPIC_IDS
    assert decision.disposition is None or decision.disposition in DISPOSITIONS
    assert decision.command is None or decision.command in COMMAND_IDS
    # The fields agree with the kind (unused fields are null, as the contract says).
    if decision.kind == "topic":
        assert decision.topic is not None and decision.disposition is None and decision.command is None
    elif decision.kind == "triage":
        assert decision.disposition is not None and decision.topic is None and decision.command is None
    elif decision.kind == "command":
        assert decision.command is not None and decision.topic is None and decision.disposition is None
    else:
        assert decision.topic is None and decision.disposition is None and decision.command is None
    assert isinstance(decision.confidence, float | int) and not isinstance(decision.confidence, bool)
    assert math.isfinite(decision.confidence) and 0.0 <= decision.confidence <= 1.0
    assert isinstance(decision.confirm, bool)
    assert not decision.confirm or decision.kind == "topic" or decision.command == "help"  # help: "emergency?"
    assert isinstance(decision.answer, str) and decision.answer.strip()
    assert decision.answer in UNDERSTAND_ANSWERS, decision.answer
    assert (decision.answer == EMERGENCY) == decision.is_emergency
    contract = decision.to_contract()
    line = json.dumps(contract)  # what `assistant ask --json` prints, ASCII-escaped
    assert "\n" not in line
    assert json.loads(line) == contract  # round-trips: no NaN, no odd types
    json.dumps(contract, ensure_ascii=False)


# ----- strategies ------------------------------------------------------------------------------------------

VOCABULARY = sorted({word for phrase in CONTENT.domain_phrases() for word in phrase.split()}
                    | {word for topic in CONTENT.topics.values() for word in topic.answer.split()})
RTL = "שלום עולם مرحبا بالعالم ‏‮‭‫‪‬"  # Hebrew, Arabic, and the bidi control marks
EMOJI = "😀🙂👍🏽👨‍👩‍👧‍👦🇬🇧❤️🦽🦯🩼🧠♿"
COMBINING = "\u0301\u0308\u0327\u0336\u20dd\u034f\ufe0f\u200d\u200c"  # accents, strike-through, ZWJ/ZWNJ
CONTROL = "".join(map(chr, range(32))) + "\x7f\x85\u2028\u2029\ufeff\ufffe\uffff"
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡¿…‘’“”«»—–·•′″"

any_char = st.characters(exclude_categories=())  # includes lone surrogates (category Cs)
surrogate = st.characters(categories=["Cs"])
weird_char = st.one_of(any_char, surrogate, st.sampled_from(RTL + EMOJI + COMBINING + CONTROL + PUNCTUATION))
word = st.one_of(st.sampled_from(VOCABULARY), st.text(weird_char, min_size=1, max_size=12))
separator = st.sampled_from([" ", "  ", ", ", ". ", "\t", "\x00", "\u200b", "\u00a0", "-", "'", "\n", "?! "])


@st.composite
def word_salad(draw: st.DrawFn, max_words: int = 40) -> str:
    """Words of the content mixed with garbage words: the adversarial case for the matchers."""
    words = draw(st.lists(word, max_size=max_words))
    parts = []
    for w in words:
        parts.append(w)
        parts.append(draw(separator))
    return "".join(parts)


@st.composite
def long_text(draw: st.DrawFn) -> str:
    """Up to 100,000 characters, built by repeating a random piece (hypothesis cannot draw 100k at once)."""
    piece = draw(st.one_of(word_salad(max_words=8), st.text(weird_char, min_size=1, max_size=30)))
    assume(piece)
    size = draw(st.integers(1_000, 100_000))
    return (piece * (size // len(piece) + 1))[:size]


nasty_text = st.one_of(
    st.text(weird_char, max_size=300),
    st.text(any_char, max_size=300),
    st.text(st.sampled_from(PUNCTUATION + " "), max_size=200),
    st.text(st.sampled_from("0123456789 .,-+"), max_size=200),
    st.builds(lambda w, n, sep: sep.join([w] * n), word, st.integers(1, 300), separator),
    word_salad(),
)

# Real things people say: the sentences beside the content, every command phrasing, topic questions.
SENTENCES = sorted({case.sentence for case in read_sentence_tests(DEFAULT_CONTENT_DIR / "tests", CONTENT)[0]})
REAL_UTTERANCES = sorted(
    set(SENTENCES)
    | {p for c in CONTENT.commands.values() for p in c.phrasings}
    | {p for t in CONTENT.topics.values() for p in t.phrasings}
    | {"yes", "no", "the first one", "the second", "two", "which therapy do i need", "tell me more"}
)
EMERGENCY_PHRASES = sorted({p for rule in CONTENT.red_flags.rules for p in rule.phrases})


# ----- the understanding -------------------------------------------------------------------------------------

@FAST
@given(nasty_text)
@example("")
@example("\x00")
@example("\ud800")
@example("\udcff\udcfe what is o t")
@example("o\u0301t\u0308")
@example("‮ what is ot")
@example("..." * 50)
@example("0" * 500)
@example("help " * 100)
@example("no " * 200)
@example("p t o t p t o t " * 50)
def test_any_text_gives_a_valid_decision(text):
    assert_valid_decision(UNDERSTANDER.understand(text), text)


@FEW
@given(long_text())
def test_very_long_text_gives_a_valid_decision(text):
    assert_valid_decision(UNDERSTANDER.understand(text), text)


@pytest.mark.parametrize("text", [
    "x" * 100_000,
    ("zqxw" + "v" * 6 + " ") * 9_000,  # one unknown long word, repeated: the typo corrector's worst case
    " ".join(VOCABULARY) * (100_000 // len(" ".join(VOCABULARY))),
    "\x00" * 100_000,
    "\ud83d" * 50_000,  # lone high surrogates
    "é" * 100_000,
], ids=["one-word", "unknown-words", "all-content-words", "nul", "surrogates", "accents"])
def test_hundred_thousand_characters(text):
    assert_valid_decision(UNDERSTANDER.understand(text), text)


def _changes_meaning(before: str, phrase: str, after: str) -> bool:
    """Noise that legitimately changes what the phrase means: a negation right before it ("not ... she
    collapsed"), a listed look-alike running across its edges ("a stroke" + "was ..."), or single letters
    next to it that the normalizer joins into one word."""
    b, p, a = basic_tokens(before), basic_tokens(phrase), basic_tokens(after)
    if any(t in NEGATIONS for t in b[-3:]):
        return True
    if (b and p and len(b[-1]) == len(p[0]) == 1) or (a and p and len(a[0]) == len(p[-1]) == 1):
        return True
    tokens = stems(b + p + a)
    for look_alike in CONTENT.red_flags.not_emergency:
        needle = stems(basic_tokens(look_alike))
        start = 0
        while (pos := find_phrase(tokens, needle, start)) >= 0:
            if pos < len(b) + len(p) and pos + len(needle) > len(b):
                return True
            start = pos + 1
    return False


@FAST
@given(st.one_of(nasty_text, word_salad()), st.sampled_from(EMERGENCY_PHRASES), st.one_of(nasty_text, word_salad()))
@example("what is o t and", "can't breathe", "?")
@example("\x00\x00", "collapsed", "\ud800")
@example("😀" * 300, "heart attack", "‮ " * 50)
def test_an_emergency_in_noise_is_still_an_emergency(before, phrase, after):
    assume(not _changes_meaning(before, phrase, after))
    text = f"{before} {phrase} {after}"
    decision = UNDERSTANDER.understand(text)
    assert_valid_decision(decision, text)
    assert decision.is_emergency, f"{phrase!r} was lost in {text!r}"


@pytest.mark.parametrize("text", [
    "I don't know, she collapsed",
    "not sure. he fainted",
    "Call someone. Never mind. He collapsed",
    "Not again! He collapsed",
    "I think he is having a stroke. Was it the heat?",
    "she is having a stroke, last week she was fine",
    "without warning she collapsed",
])
def test_a_neighbouring_sentence_does_not_cancel_an_emergency(text):
    assert UNDERSTANDER.understand(text).is_emergency


# ----- the dialog ----------------------------------------------------------------------------------------------

utterance = st.one_of(st.sampled_from(REAL_UTTERANCES), st.sampled_from(REAL_UTTERANCES), nasty_text)


@FAST
@given(st.sampled_from([None, WAKE]), st.lists(utterance, min_size=1, max_size=25))
def test_dialog_survives_any_sequence_of_utterances(wake, utterances):
    dialog = Dialog(UNDERSTANDER, rate=165, volume=0.75, wake_phrase=wake)
    allowed = DIALOG_TEXTS[wake]
    assert dialog.start().text == _greeting(wake)
    for text in utterances:
        reply = dialog.handle(text)
        assert isinstance(reply, Reply)
        assert isinstance(reply.text, str) and reply.text in allowed, reply.text
        decision = reply.decision
        assert decision.input == text
        assert decision.kind in KINDS
        assert decision.topic is None or decision.topic in TOPIC_IDS
        assert decision.disposition is None or decision.disposition in DISPOSITIONS
        assert decision.command is None or decision.command in COMMAND_IDS
        assert reply.alert == decision.is_emergency
        if reply.alert:
            assert reply.text == f"{EMERGENCY} {EMERGENCY}" and reply.stop_speaking
        if reply.end:
            assert decision.command == "goodbye"
        if not reply.text:
            assert decision.command == "stop"
        json.dumps(decision.to_contract())
        assert dialog.state.mode in Mode
        if dialog.state.mode is Mode.QUESTIONNAIRE:
            assert 0 <= dialog.state.question_index < len(CONTENT.triage.questions)
        if dialog.state.mode is Mode.CONFIRMING:
            assert dialog.state.candidates and set(dialog.state.candidates) <= set(TOPIC_IDS)
        assert RATE_MIN <= dialog.rate <= RATE_MAX and VOLUME_MIN <= dialog.volume <= VOLUME_MAX


# ----- `assistant ask -` with a file of nasty lines ------------------------------------------------------------

NASTY_LINES: list[bytes] = [
    b"what is o t",
    bytes(range(1, 10)) + b"\x0b\x0c\x0e\x0f\x10\x1b[31m red \x1b[0m\x7f",  # control characters (no \n)
    b"\x00nul\x00 in the middle\x00",
    b"",
    b"\xff\xfe invalid \xc3\x28 utf-8 \x80\xbf bytes",
    b"\xed\xa0\x80 a lone surrogate, utf-8 encoded (invalid) ",
    b"\xef\xbb\xbfwhat is p t",  # a byte-order mark
    b"windows line ending\r",
    "\u2028line separator\u2029 and \x85 next-line inside one line".encode(),
    b"",
    b"what is the difference " * 43_479 + b"she collapsed",  # a 1 MB line that ends with an emergency
    "مرحبا ‮what is ot‬ 👍🏽 e\u0301".encode(),
    b"!!!???...",
    b"1234567890",
    b"",
    b"goodbye",
]


@pytest.mark.parametrize("locale_env", [
    {"PYTHONIOENCODING": "utf-8"},  # strict UTF-8, as on a desktop with an en_US.UTF-8 locale
    {"LC_ALL": "C"},  # the C locale (Python's UTF-8 mode, surrogateescape)
], ids=["strict-utf8", "c-locale"])
def test_ask_reads_a_file_of_nasty_lines(tmp_path, locale_env):
    assert len(NASTY_LINES[10]) > 1_000_000
    questions = tmp_path / "nasty.txt"
    questions.write_bytes(b"\n".join(NASTY_LINES) + b"\n")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONIOENCODING", "LC_ALL")}
    env.update({"ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "XDG_DATA_HOME": str(tmp_path / "d"),
                "XDG_CONFIG_HOME": str(tmp_path / "c"), **locale_env})
    with questions.open("rb") as stdin:
        result = subprocess.run([sys.executable, "-m", "assistant", "ask", "-", "--json", "--no-speak",
                                 "--emergency-number", NUMBER],
                                stdin=stdin, capture_output=True, cwd=REPO, env=env, timeout=120)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr
    out = result.stdout.decode("utf-8")  # strict: the output is valid UTF-8 whatever came in
    assert out.endswith("\n")
    lines = out[:-1].split("\n")  # JSON escapes \n, so only real line ends split (not \u2028 or \x85)
    assert len(lines) == len(NASTY_LINES)
    for raw, line in zip(NASTY_LINES, lines, strict=True):
        got = json.loads(line)
        text = raw.decode("utf-8", "replace")  # undecodable bytes are shown as U+FFFD
        assert got["input"] == text  # in input order
        assert got == UNDERSTANDER.understand(text).to_contract()
    assert json.loads(lines[0])["topic"] == "ot.what"
    assert json.loads(lines[10])["disposition"] == "emergency"
    assert json.loads(lines[-1])["command"] == "goodbye"
    assert all(json.loads(lines[i])["answer"] == CONTENT.messages["not_heard"] for i in (3, 9, 14))


def test_listen_text_survives_undecodable_bytes(tmp_path):
    env = {**os.environ, "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CONFIG_HOME": str(tmp_path / "c"), "PYTHONIOENCODING": "utf-8"}
    result = subprocess.run([sys.executable, "-m", "assistant", "listen", "--text", "--no-speak"],
                            input=b"what is o t\n\xff\xfe bad bytes\ngoodbye\n", capture_output=True, cwd=REPO,
                            env=env, timeout=60)
    assert result.returncode == 0 and b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")
    said = result.stdout.decode().splitlines()
    assert said[-3:] == [CONTENT.topics["ot.what"].answer, CONTENT.messages["unknown"], CONTENT.messages["goodbye"]]


@pytest.mark.parametrize("mode", [[], ["--once"]], ids=["hands-free", "once"])
def test_listen_with_a_missing_model_says_how_to_fix_it(tmp_path, mode):
    """A model folder that is not there: one line saying so and what to do, not a traceback (before the
    microphone or the speaker are touched, so no audio devices are needed)."""
    env = {**os.environ, "ASSISTANT_CONFIG": str(tmp_path / "config.yaml"), "XDG_DATA_HOME": str(tmp_path / "d"),
           "XDG_CONFIG_HOME": str(tmp_path / "c")}
    missing = tmp_path / "no-such-model"
    result = subprocess.run([sys.executable, "-m", "assistant", "listen", *mode, "--no-speak", "--engine", "whisper",
                             "--model", str(missing)], stdin=subprocess.DEVNULL, capture_output=True, cwd=REPO,
                            env=env, timeout=60)
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith(f"assistant: the Whisper model {missing}")
    assert "does not exist" in stderr and "built-in English model" in stderr
