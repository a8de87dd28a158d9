"""Voice commands that change how the assistant speaks: bounded steps and what to say about them.

Pure (no audio): the dialog asks `adjust("slower", settings)` for the new values and a short phrase,
speaks the phrase in the new setting, then calls `remember(settings, change)` so it survives a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from assistant.config import Settings, save_settings

log = logging.getLogger(__name__)

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


def adjust_settings(adjustment: str, settings: Settings) -> SpeechChange:
    """adjust() on a Settings object, updating it in place (not yet saved)."""
    change = adjust(adjustment, settings.rate, settings.volume)
    settings.rate, settings.volume = change.rate, change.volume
    return change


def remember(settings: Settings, change: SpeechChange) -> bool:
    """Write the setting this change touched to the user's config file (only that one).

    A config file that cannot be written is logged, not raised: the hands-free loop must go on.
    """
    if not change.changed:
        return False
    setattr(settings, change.setting, getattr(change, change.setting))
    try:
        save_settings(settings, only=[change.setting])
    except OSError as exc:
        log.warning("Could not remember the new speaking %s in the config file: %s", change.setting, exc)
        return False
    return True
