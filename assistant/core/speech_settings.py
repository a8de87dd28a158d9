"""Voice commands that change how the assistant speaks: bounded steps and what to say about them.

Pure: the dialog asks `adjust("slower", rate, volume)` for the new values and a short phrase, and says the
phrase in the new setting; the application remembers the new value for the next start.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Adjustment = Literal["slower", "faster", "louder", "softer"]
ADJUSTMENTS: tuple[Adjustment, ...] = ("slower", "faster", "louder", "softer")

RATE_MIN, RATE_MAX, RATE_STEP = 90, 260, 25  # words per minute
VOLUME_MIN, VOLUME_MAX, VOLUME_STEP = 0.3, 1.0, 0.15

_PHRASES: dict[Adjustment, tuple[str, str]] = {
    # (changed, already at the limit)
    "slower": ("Slower.", "This is as slow as I go."),
    "faster": ("Faster.", "This is as fast as I go."),
    "louder": ("Louder.", "This is as loud as I go."),
    "softer": ("Softer.", "This is as soft as I go."),
}


@dataclass(frozen=True)
class SpeechChange:
    adjustment: Adjustment
    setting: Literal["rate", "volume"]
    rate: int
    volume: float
    changed: bool
    phrase: str  # say it with the new rate and volume


def _step_down(value: float, low: float, high: float, step: float) -> float:
    if value <= low:
        return value  # never "slower" into a faster value when the config is below the bound
    return max(low, min(value - step, high))


def _step_up(value: float, low: float, high: float, step: float) -> float:
    if value >= high:
        return value
    return min(high, max(value + step, low))


def adjust(adjustment: str, rate: int, volume: float) -> SpeechChange:
    """The rate and volume after one step of `adjustment`, and the phrase that confirms it."""
    if adjustment not in ADJUSTMENTS:
        raise ValueError(f"unknown speech adjustment {adjustment!r}; expected one of {', '.join(ADJUSTMENTS)}")
    new_rate, new_volume = int(rate), float(volume)
    if adjustment == "slower":
        new_rate = int(_step_down(rate, RATE_MIN, RATE_MAX, RATE_STEP))
    elif adjustment == "faster":
        new_rate = int(_step_up(rate, RATE_MIN, RATE_MAX, RATE_STEP))
    elif adjustment == "louder":
        new_volume = round(_step_up(volume, VOLUME_MIN, VOLUME_MAX, VOLUME_STEP), 2)
    else:
        new_volume = round(_step_down(volume, VOLUME_MIN, VOLUME_MAX, VOLUME_STEP), 2)
    setting: Literal["rate", "volume"] = "rate" if adjustment in ("slower", "faster") else "volume"
    changed = (new_rate, new_volume) != (int(rate), float(volume))
    done, at_limit = _PHRASES[adjustment]  # type: ignore[index]
    return SpeechChange(adjustment, setting, new_rate, new_volume, changed, done if changed else at_limit)
