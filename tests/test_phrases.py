"""Personal phrases with a simulated impaired voice (tests/impaired_voice.py): real espeak-ng/flite audio,
real features and matching. Enrollment takes and test takes always differ (rate, pitch, muffling, tremor,
noise); nothing here is a copy of an enrolled clip."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import numpy as np
import pytest
from impaired_voice import Person, other_voice, write_wav

from assistant.phrases import enroll
from assistant.phrases.features import phrase_features
from assistant.phrases.matcher import PhraseMatcher
from assistant.phrases.personal import PersonalPhrases
from assistant.phrases.policy import choose
from assistant.phrases.store import PhraseStore

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PERSON = Person(seed=21, voice="en-us+m2", speed=105, pitch=40)
SAYINGS = {"stop": "stop", "yes": "yes", "no": "no", "help": "help", "louder": "louder",
           "emergency": "help me i fell", "wake": "hey coach"}
NEW_TAKES = (40, 41, 42)
SPARE_TAKES = range(40, 60)  # where a test needs one new take that matches


@pytest.fixture(scope="module")
def recordings() -> dict[str, list[np.ndarray]]:
    return {name: [PERSON.say(text, take) for take in range(3)] for name, text in SAYINGS.items()}


@pytest.fixture(scope="module")
def matcher(recordings) -> PhraseMatcher:
    return PhraseMatcher({name: [phrase_features(t) for t in takes] for name, takes in recordings.items()})


# ----- features ---------------------------------------------------------------------------------------------

def test_features_of_a_take_and_of_silence():
    take = PERSON.say("stop", 0)
    features = phrase_features(take)
    assert features is not None and features.shape[1] == 13
    assert np.allclose(features.mean(axis=0), 0, atol=1e-3)  # the take's own mean is removed
    assert phrase_features(np.zeros(16000, dtype=np.int16)) is None
    # the silence around the phrase does not change what is compared
    padded = np.concatenate([np.zeros(8000, dtype=np.int16), take, np.zeros(8000, dtype=np.int16)])
    assert abs(len(phrase_features(padded)) - len(features)) <= 2


# ----- matching ---------------------------------------------------------------------------------------------

def test_new_takes_match_their_phrase_and_never_another(matcher):
    right, wrong = 0, []
    for name, text in SAYINGS.items():
        for take in NEW_TAKES:
            match = matcher.match(phrase_features(PERSON.say(text, take)))
            if match is not None and match.name == name:
                right += 1
            elif match is not None:
                wrong.append((name, take, match))
    assert not wrong
    # The matcher alone decides about 60-70 % of new takes of this simulated voice (bench/phrases.py); the
    # rest is left to the transcript. This guards against it getting much worse.
    assert right >= 0.5 * len(SAYINGS) * len(NEW_TAKES), right


@pytest.mark.parametrize("text", ["what is physical therapy", "my knee hurts when i walk", "good morning",
                                  "please stop talking about it", "yes i think so", "coffee"])
def test_other_sentences_of_the_same_voice_do_not_match(matcher, text):
    assert matcher.match(phrase_features(PERSON.say(text, 70))) is None


@pytest.mark.parametrize("index", range(6))
def test_other_voices_do_not_match(matcher, index):
    text = ["the news at nine", "dinner is ready", "did you take your pills", "sleep well",
            "the phone is ringing", "let me open the window"][index]
    assert matcher.match(phrase_features(other_voice(text, index))) is None


def test_phrases_too_alike_are_reported():
    # "yes" enrolled twice under two names: whatever is said, either could win
    takes = [phrase_features(PERSON.say("yes", k)) for k in range(6)]
    stop = [phrase_features(PERSON.say("stop", k)) for k in range(3)]
    matcher = PhraseMatcher({"yes": takes[:3], "no": takes[3:], "stop": stop})
    assert [(a, b) for a, b, _ in matcher.too_alike()] == [("no", "yes")]


# ----- the safer reading wins -------------------------------------------------------------------------------

def test_policy(understander):
    said = understander.understand
    assert choose(None, said("stop")) == "transcript"
    assert choose("stop", said("i think i am having a stroke")) == "transcript"  # an emergency stays one
    assert choose("emergency", said("what is physical therapy")) == "phrase"
    assert choose("yes", said("no")) == "ask" and choose("no", said("yes")) == "ask"
    assert choose("yes", said("yeah")) == "phrase"
    assert choose("yes", said("top")) == "phrase"
    assert choose("stop", said("")) == "phrase"
    assert choose("wake", said("hey go"), wake_enabled=False) == "transcript"


def test_personal_phrases_decide_on_a_misheard_transcript(recordings, understander):
    phrases = PersonalPhrases(recordings, understander, wake_phrase="hey coach")
    audio = next(a for a in (PERSON.say("help me i fell", t) for t in SPARE_TAKES) if phrases.match(a))
    heard = phrases.hear(audio, "help me i failed")  # what Whisper made of it once
    assert heard.phrase == "emergency" and understander.understand(heard.text).is_emergency
    decision = phrases.decide(audio, understander.understand("help me i failed"))
    assert decision.is_emergency and decision.to_contract()["phrase"] == "emergency"
    no = next(a for a in (PERSON.say("no", t) for t in SPARE_TAKES) if phrases.match(a))
    assert phrases.hear(no, "yes").ask_back  # no heard as "yes": asked back, not guessed
    asked = phrases.decide(no, understander.understand("yes"))
    assert asked.confirm and asked.command is None and asked.answer == understander.message("yes_no_please")
    wake = next(a for a in (PERSON.say("hey coach", t) for t in SPARE_TAKES) if phrases.match(a))
    assert phrases.hear(wake, "hey go").text == "hey coach"
    # other speech keeps the transcript's reading, and no "phrase" key
    other = PERSON.say("what is physical therapy", 71)
    plain = understander.understand("what is physical therapy")
    assert phrases.hear(other, "what is physical therapy").phrase is None
    assert "phrase" not in phrases.decide(other, plain).to_contract()


# ----- takes ------------------------------------------------------------------------------------------------

def test_check_take_refuses_silent_clipped_and_short_takes():
    take = PERSON.say("stop", 0)
    assert enroll.check_take(take) is None
    assert enroll.check_take(np.zeros(16000, dtype=np.int16)) == enroll.SILENT
    assert enroll.check_take((take // 300).astype(np.int16)) == enroll.SILENT  # far too quiet
    clipped = np.clip(take.astype(np.int32) * 8, -32768, 32767).astype(np.int16)
    assert enroll.check_take(clipped) == enroll.CLIPPED
    blip = np.concatenate([np.zeros(4000), 8000 * np.sin(np.arange(1200) / 3), np.zeros(4000)]).astype(np.int16)
    assert enroll.check_take(blip) == enroll.TOO_SHORT
    long_speech = PERSON.say("what is the difference between physical and occupational therapy", 1)
    assert enroll.check_take(long_speech) == enroll.TOO_LONG


def test_record_takes_says_why_a_take_is_refused_and_asks_again():
    takes = [None, PERSON.say("stop", 0), np.zeros(16000, dtype=np.int16),
             np.clip(PERSON.say("stop", 1).astype(np.int32) * 8, -32768, 32767).astype(np.int16),
             PERSON.say("stop", 2), PERSON.say("stop", 3)]
    said: list[str] = []
    beeps: list[int] = []
    got = enroll.record_takes("stop", say=said.append, beep=lambda: beeps.append(1),
                              listen=lambda wait: takes.pop(0), status=lambda s: None)
    assert got is not None and len(got) == 3 and not takes
    assert said.count(enroll.SILENT) == 2 and said.count(enroll.CLIPPED) == 1
    assert "Say 'stop' after the tone." in said and len(beeps) == 6
    # nothing usable: gives up, saying so
    said.clear()
    assert enroll.record_takes("stop", said.append, lambda: None, lambda wait: None, lambda s: None) is None
    assert "Nothing was changed" in said[-1]


# ----- store and commands -----------------------------------------------------------------------------------

def test_store_is_owner_only_and_replaces_a_phrase(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = PhraseStore()
    store.save("stop", [PERSON.say("stop", k) for k in range(3)])
    store.save("stop", [PERSON.say("stop", k) for k in range(3, 5)])
    assert store.names() == ["stop"] and len(store.load("stop")) == 2
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.parent.stat().st_mode) == 0o700
    for path in (store.root / "stop").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert store.remove("stop") and store.names() == [] and not store.remove("stop")


def _cli(env, *args, check=True):
    result = subprocess.run([sys.executable, "-m", "assistant", *args], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=300)
    assert not check or result.returncode == 0, result.stderr
    return result


def test_add_list_ask_remove_from_the_command_line(tmp_path, understander, recordings):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "ASSISTANT_CONFIG": str(tmp_path / "c.yaml")}
    for name in ("stop", "emergency"):
        files = [str(write_wav_at(tmp_path / f"{name}{k}.wav", take)) for k, take in enumerate(recordings[name])]
        assert "enrolled from 3" in _cli(env, "phrases", "add", name, *files).stdout
    listed = json.loads(_cli(env, "phrases", "list", "--json").stdout)
    assert listed["phrases"] == {"stop": 3, "emergency": 3}
    silent = write_wav_at(tmp_path / "silent.wav", np.zeros(16000, dtype=np.int16))
    refused = _cli(env, "phrases", "add", "yes", str(silent), str(silent), check=False)
    assert refused.returncode == 1 and "didn't hear anything" in refused.stderr
    # new takes through `ask --audio`: the emergency is the emergency answer whatever Whisper heard
    phrases = PersonalPhrases({k: recordings[k] for k in ("stop", "emergency")}, understander)
    take = next(a for a in (PERSON.say("help me i fell", t) for t in SPARE_TAKES) if phrases.match(a))
    question = write_wav_at(tmp_path / "q1.wav", take)
    other = write_wav_at(tmp_path / "q2.wav", PERSON.say("what is occupational therapy", 72))
    lines = [json.loads(line) for line in
             _cli(env, "ask", "--audio", str(question), str(other), "--json", "--no-speak").stdout.splitlines()]
    assert lines[0]["disposition"] == "emergency" and lines[0]["phrase"] == "emergency"
    assert "phrase" not in lines[1]
    assert set(lines[1]) >= {"input", "transcript", "kind", "topic", "disposition", "command", "answer",
                             "confidence", "confirm"}
    assert "personal phrases" in _cli(env, "doctor", check=False).stdout
    assert "removed" in _cli(env, "phrases", "remove", "stop").stdout
    assert json.loads(_cli(env, "phrases", "list", "--json").stdout)["phrases"] == {"emergency": 3}


def write_wav_at(path, samples):
    write_wav(path, samples)
    return path

