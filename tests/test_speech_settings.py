"""Speech settings by voice: bounded steps, confirmation phrases, remembered in the config file (pure)."""

from __future__ import annotations

import pytest
import yaml
from conftest import CONTENT_DIR

from assistant.app import Application
from assistant.config import Settings, load_settings
from assistant.core import speech_settings as speech
from assistant.core.loader import load_content

RATE_BOUNDS = (speech.RATE_MIN, speech.RATE_MAX)
VOLUME_BOUNDS = (speech.VOLUME_MIN, speech.VOLUME_MAX)


def test_slower_steps_down_to_the_bound_then_says_so():
    rate, phrases = 165, []
    for _ in range(10):
        change = speech.adjust("slower", rate, 0.9)
        assert change.setting == "rate" and change.volume == 0.9
        phrases.append(change.phrase)
        rate = change.rate
    assert rate == speech.RATE_MIN
    assert phrases[0] == "Slower."
    assert phrases[-1] == "This is as slow as I go."
    assert speech.adjust("slower", rate, 0.9).changed is False


@pytest.mark.parametrize("adjustment,field,bounds", [
    ("faster", "rate", RATE_BOUNDS), ("slower", "rate", RATE_BOUNDS),
    ("louder", "volume", VOLUME_BOUNDS), ("softer", "volume", VOLUME_BOUNDS),
])
def test_every_step_moves_one_way_and_stays_within_bounds(adjustment, field, bounds):
    rate, volume = 165, 0.9
    seen = []
    for _ in range(12):
        change = speech.adjust(adjustment, rate, volume)
        new = getattr(change, field)
        old = rate if field == "rate" else volume
        assert bounds[0] <= new <= bounds[1]
        if adjustment in ("faster", "louder"):
            assert new >= old
        else:
            assert new <= old
        assert change.changed == (new != old)
        seen.append(change.phrase)
        rate, volume = change.rate, change.volume
    assert seen[-1].startswith("This is as")
    assert len(set(seen)) == 2  # "Louder." while it changes, then the limit phrase


def test_out_of_range_config_values_move_toward_the_range_never_away():
    assert speech.adjust("slower", 300, 0.9).rate == speech.RATE_MAX
    assert speech.adjust("slower", 80, 0.9).changed is False  # below the bound: no jump up
    assert speech.adjust("faster", 80, 0.9).rate == 80 + speech.RATE_STEP
    assert speech.adjust("faster", 300, 0.9).changed is False  # above the bound: no jump down
    assert speech.adjust("softer", 165, 0.1).changed is False
    assert speech.adjust("louder", 165, 0.1).volume == pytest.approx(speech.VOLUME_MIN)


def test_unknown_adjustment_is_an_error():
    with pytest.raises(ValueError, match="slower"):
        speech.adjust("quieter", 165, 0.9)


def application(settings: Settings) -> Application:
    return Application(settings, load_content(CONTENT_DIR))


def test_remember_writes_only_the_changed_setting(tmp_path, monkeypatch):
    config = tmp_path / "config.yaml"
    config.write_text("wake_phrase: hello helper\nvolume: 0.75\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(config))
    settings = load_settings()
    settings.volume = 0.5  # a --volume given on the command line for this run only
    change = speech.adjust("slower", settings.rate, settings.volume)
    application(settings).remember_speech(change.rate, None)
    saved = yaml.safe_load(config.read_text(encoding="utf-8"))
    assert saved == {"wake_phrase": "hello helper", "volume": 0.75, "rate": 140}
    assert load_settings().rate == 140


def test_remember_survives_an_unwritable_config(tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(blocker / "config.yaml"))
    settings = Settings()
    change = speech.adjust("louder", settings.rate, settings.volume)
    application(settings).remember_speech(None, change.volume)
    assert settings.volume == 1.0  # still applies for this run
    assert "remember" in caplog.text
