"""The emergency number as it is dialled, for speech: "911" -> "nine one one", "000" -> "triple zero".

Pure text. espeak-ng reads a run of digits as a quantity ("Call 911 now" is "nine hundred eleven"), which is
not a number anyone dials; the printed answer keeps the digits, only what goes to the synthesizer changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# The numbers said as they are dialled wherever they appear, besides the configured one.
EMERGENCY_NUMBERS = ("911", "999", "112", "000")
# Where a number has its own spoken convention: Australia's 000 is said "triple zero".
CONVENTIONS = {"000": "triple zero"}


def dialled(number: str) -> str:
    """'911' -> 'nine one one', '000' -> 'triple zero', '+44 20 7946' -> 'plus four four two zero ...'."""
    plain = "".join(c for c in number if c.isdigit())
    if plain in CONVENTIONS and number.strip() == plain:
        return CONVENTIONS[plain]
    words = ["plus"] if number.strip().startswith("+") else []
    words.extend(DIGIT_WORDS[int(c)] for c in plain)
    return " ".join(words)


def say_numbers_as_dialled(text: str, numbers: Iterable[str] = ()) -> str:
    """`text` with each of `numbers` (and EMERGENCY_NUMBERS) written as it is said when dialled, where it
    stands on its own (not inside a longer number)."""
    wanted = sorted({n.strip() for n in (*numbers, *EMERGENCY_NUMBERS) if n and n.strip()}, key=len, reverse=True)
    if not wanted:
        return text
    pattern = re.compile(r"(?<![\d+])(?:" + "|".join(re.escape(n) for n in wanted) + r")(?!\d)")
    return pattern.sub(lambda match: dialled(match.group(0)), text)
