"""The emergency number is said as it is dialled ("nine one one", not "nine hundred eleven"), checked on what
is really synthesized: espeak-ng's phonemes and the length of the pyttsx3 audio. Printed answers keep digits."""

from __future__ import annotations

import subprocess

import pytest

from assistant.config import Settings
from assistant.core.dialog import Dialog
from assistant.core.spoken_number import dialled, say_numbers_as_dialled
from assistant.core.understanding import Understander
from assistant.speech import synth
from assistant.speech.chunks import speech_chunks
from assistant.speech.speaker import Speaker

SAID = {"911": "nine one one", "999": "nine nine nine", "112": "one one two", "000": "triple zero"}
HUNDRED = "h'VndrI2d"  # espeak-ng's phonemes for "hundred": the number read as a quantity, which nobody dials
DIGIT_PHONEMES = {"911": "n'aIn w'0n w", "999": "n'aIn n'aIn n", "112": "w'0n w'0n t"}  # stress varies at the end


def phonemes(text: str) -> str:
    return subprocess.run(["espeak-ng", "-x", "-q", text], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("number", "words"), SAID.items())
def test_the_number_is_written_as_dialled(number: str, words: str):
    assert dialled(number) == words
    assert say_numbers_as_dialled(f"Call {number} now. Call {number}.", [number]) == f"Call {words} now. Call {words}."


def test_only_the_number_itself_changes():
    assert dialled("+44 20 1234") == "plus four four two zero one two three four"
    assert say_numbers_as_dialled("In 1911 and 9110 and 50 steps", ["911"]) == "In 1911 and 9110 and 50 steps"
    assert say_numbers_as_dialled("ring 111 now", ["111"]) == "ring one one one now"


@pytest.mark.parametrize("number", ["911", "999", "112", "000"])
def test_every_message_naming_the_number_is_said_digit_by_digit(content, number: str):
    understander = Understander(content, emergency_number=number)
    dialog = Dialog(understander)
    texts = [understander.emergency_answer(), dialog.start().text, understander.message("see_doctor")]
    for text in texts:
        assert number in text  # printed and typed output keeps the digits
        spoken = say_numbers_as_dialled(text, [number])
        assert number not in spoken and SAID[number] in spoken
        if number in DIGIT_PHONEMES:
            said = phonemes(spoken)
            assert DIGIT_PHONEMES[number] in said and HUNDRED not in said
            assert HUNDRED in phonemes(text)  # what espeak-ng says for the digits left as they are


def _length(text: str, settings: Settings) -> int:
    return sum(len(synth.synthesize(chunk, settings.rate, settings.volume)) for chunk in speech_chunks(text))


@pytest.mark.parametrize("number", ["911", "999", "112"])
def test_the_synthesized_emergency_answer_says_the_number_digit_by_digit(content, number: str):
    """The Speaker's real pyttsx3 audio is as long as the digit-by-digit reading, not the quantity reading."""
    settings = Settings(emergency_number=number)
    answer = Understander(content, emergency_number=number).emergency_answer()
    spoken = len(Speaker(settings, warm_up=False).render(answer))
    digit_by_digit = _length(answer.replace(number, " ".join(SAID[number].split())), settings)
    quantity = _length(answer, settings)
    assert abs(spoken - digit_by_digit) <= 0.01 * digit_by_digit
    # espeak-ng's length varies by a few hundredths of a second between runs; the readings differ by over 0.5 s
    assert abs(spoken - quantity) > 4 * abs(spoken - digit_by_digit) + 0.05 * synth.SAMPLE_RATE
