"""Personal phrases: the person's own recordings of the few words that matter (stop, yes, no, help ...).

- features.py: audio -> trimmed MFCCs (pure numpy)
- matcher.py:  features against the recordings: DTW, per-phrase thresholds (pure numpy)
- policy.py:   a match and the transcript's reading -> which one decides (pure: the safer reading wins)
- store.py:    the recordings in the user's data folder, owner-only
- enroll.py:   checking a take (silent, clipped, too short) and recording takes through the microphone
- personal.py: the above put together for the hearing and listening loops
"""

from __future__ import annotations

COMMAND_NAMES = ("stop", "yes", "no", "repeat", "more", "slower", "faster", "louder", "softer", "help", "goodbye")
NAMES = (*COMMAND_NAMES, "wake", "emergency")
TAKES = 3  # recordings per phrase


def describe(name: str) -> str:
    """How the prompt names the phrase: 'stop', 'your wake phrase', 'your own words for an emergency'."""
    if name == "wake":
        return "your wake phrase"
    if name == "emergency":
        return "what you would say in an emergency, like help me, I fell"
    return f"'{name}'"
