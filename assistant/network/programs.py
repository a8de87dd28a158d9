"""What the server offers, as Home Assistant reads it from `info`: speech to text (`asr`), a conversation
agent (`handle`) and text to speech (`tts`), all English, all the assistant's own."""

from __future__ import annotations

from wyoming.info import (
    AsrModel,
    AsrProgram,
    Attribution,
    HandleModel,
    HandleProgram,
    Info,
    TtsProgram,
    TtsVoice,
)

from assistant import __version__

ATTRIBUTION = Attribution(name="OT/PT voice assistant", url="")  # no public home page yet
LANGUAGES = ["en"]


def describe(recognizer_description: str, voice: str | None) -> Info:
    """The `info` answer; `recognizer_description` and `voice` name what the server really runs."""
    asr = AsrProgram(
        name="ot-pt-assistant-asr", attribution=ATTRIBUTION, installed=True, version=__version__,
        description="Speech to text tuned for therapy questions and emergencies (the reading the assistant "
                    "acts on, an emergency first; the person's own phrases)",
        models=[AsrModel(name="ot-pt-assistant", attribution=ATTRIBUTION, installed=True, version=__version__,
                         description=recognizer_description, languages=LANGUAGES)],
    )
    handle = HandleProgram(
        name="ot-pt-assistant", attribution=ATTRIBUTION, installed=True, version=__version__,
        description="Answers occupational- and physical-therapy questions; emergencies first, with the "
                    "caregiver alert naming the room",
        models=[HandleModel(name="ot-pt-assistant", attribution=ATTRIBUTION, installed=True, version=__version__,
                            description="one conversation per room", languages=LANGUAGES)],
    )
    tts = TtsProgram(
        name="ot-pt-assistant-tts", attribution=ATTRIBUTION, installed=True, version=__version__,
        description="The assistant's own voice (espeak-ng), at the caregiver's rate and volume",
        voices=[TtsVoice(name=voice or "default", attribution=ATTRIBUTION, installed=True, version=__version__,
                         description="espeak-ng", languages=LANGUAGES)],
    )
    return Info(asr=[asr], handle=[handle], tts=[tts])
