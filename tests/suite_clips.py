"""The spoken sentences tests/test_recognition.py decodes, shared with bench/recognition.py.

The tests assert what holds on every CPU over these clips (a share right, every sentence in most voices);
the bench decodes the same clips and lists each one this machine's CPU mishears, since the same int8 model
decodes a few of them differently on different CPUs.
"""

from __future__ import annotations

import numpy as np
from audio_samples import silence
from degrade import degrade
from speech_voices import TEST_VOICES, speak

SPOKEN = [
    # questions across the topics
    ("what is physical therapy", "topic", "pt.what"),
    ("what are the goals of physical therapy", "topic", "pt.goals"),
    ("what does a physical therapist do", "topic", "pt.treatments"),
    ("what is occupational therapy", "topic", "ot.what"),
    ("what are the goals of occupational therapy", "topic", "ot.goals"),
    ("what does an occupational therapist do", "topic", "ot.treatments"),
    ("how is occupational therapy different from physical therapy", "topic", "compare"),
    ("when do patients need both kinds of therapy", "topic", "both"),
    ("what training does a physical therapist need", "topic", "pt.education"),
    ("how do you become an occupational therapist", "topic", "ot.education"),
    ("where do physical therapists work", "topic", "settings"),
    ("can occupational therapy help with anxiety", "topic", "ot.mental_health"),
    ("do i need physical therapy or occupational therapy", "topic", "which"),
    # symptoms
    ("i have trouble with my balance", "triage", "pt"),
    ("i have trouble getting dressed", "triage", "ot"),
    # emergencies
    ("i have chest pain", "triage", "emergency"),
    ("i can't breathe", "triage", "emergency"),
    ("my face is drooping", "triage", "emergency"),
    ("i think i'm having a stroke", "triage", "emergency"),
    ("she is having a seizure", "triage", "emergency"),
    ("call an ambulance", "triage", "emergency"),
    ("i want to kill myself", "triage", "emergency"),
    # commands
    ("say that again", "command", "repeat"),
    ("speak slower", "command", "slower"),
    ("faster please", "command", "faster"),
    ("quieter please", "command", "softer"),
    ("goodbye", "command", "goodbye"),
    ("yes", "command", "yes"),
    ("no", "command", "no"),
]
EMERGENCIES = [sentence for sentence, _, what in SPOKEN if what == "emergency"]
EMERGENCY_DEGRADATIONS = ("slow", "noisy", "quiet")
EMERGENCY_VOICE = "flite:slt"  # the degraded emergencies are said in this voice


def plain_clips() -> dict[tuple[str, str], np.ndarray]:
    """(sentence, voice) -> the sentence said in that voice, for every SPOKEN sentence and test voice."""
    return {(sentence, voice): speak(sentence, voice) for sentence, _, _ in SPOKEN for voice in TEST_VOICES}


def degraded_emergency(sentence: str, how: str) -> np.ndarray:
    """An emergency said slowly, over noise or quietly, with a little room around it."""
    return degrade(np.concatenate([silence(0.4), speak(sentence, EMERGENCY_VOICE), silence(0.4)]), how, seed=7)


def degraded_emergencies() -> dict[tuple[str, str], np.ndarray]:
    """(sentence, degradation) -> clip, for every emergency and EMERGENCY_DEGRADATIONS."""
    return {(sentence, how): degraded_emergency(sentence, how) for sentence in EMERGENCIES
            for how in EMERGENCY_DEGRADATIONS}
