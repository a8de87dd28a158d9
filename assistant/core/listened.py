"""The phrases listened for (pure): the small closed set the recognizer scores on every utterance.

Over a TV, Whisper tiny.en often writes the TV's words into the person's sentence, yet still finds the
person's own words likely when asked about them. So the words that matter most are listened for, not only
transcribed: the spoken forms of each red flag (red_flags.yaml `listen_for`), the voice commands (the first
phrasings of each in commands.yaml: the words themselves) and the wake phrase. The recognizer scores each
against the utterance's sound (recognition/whisper_engine.py); recognition/reading.py decides with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from assistant.core.content import Content
from assistant.core.understanding import Understander

Meaning = Literal["emergency", "command", "wake"]
# Per command, how many of its phrasings (the first, shortest ones: the word itself, "stop talking") are
# listened for: each one costs decoder time on every utterance.
COMMAND_FORMS = 2
COMMAND_MAX_WORDS = 2


@dataclass(frozen=True)
class ListenPhrase:
    text: str  # as said: "I can't catch my breath", "stop"
    meaning: Meaning
    name: str  # the red flag id, the command id, or "wake"


def closed_set(content: Content, wake_phrase: str | None = None) -> tuple[ListenPhrase, ...]:
    phrases = [ListenPhrase(text, "emergency", rule.id) for rule in content.red_flags.rules for text in rule.listen_for]
    for command in content.commands.values():
        # "help" alone: its other short phrasings are greetings ("hello"), which a TV says all day
        forms = 1 if command.id == "help" else COMMAND_FORMS
        short = [p for p in command.phrasings if len(p.split()) <= COMMAND_MAX_WORDS][:forms]
        phrases.extend(ListenPhrase(text, "command", command.id) for text in short)
    if wake_phrase:
        phrases.append(ListenPhrase(wake_phrase, "wake", "wake"))
    return tuple(phrases)


def closed_set_problems(understander: Understander) -> list[str]:
    """Each phrase must mean, to the understanding, what it is listened for: a red flag's spoken form is an
    emergency (not cancelled by a negation), a command's form is that command."""
    problems = []
    for phrase in closed_set(understander.content):
        decision = understander.understand(phrase.text)
        if phrase.meaning == "emergency" and not decision.is_emergency:
            problems.append(f"red_flags.yaml: red flag '{phrase.name}', listen_for '{phrase.text}' is not caught as an "
                            "emergency by the red-flag phrases. Fix: add a phrase that catches it, or reword it")
        elif phrase.meaning == "command" and decision.command != phrase.name and phrase.name != "help":
            problems.append(f"commands.yaml: '{phrase.text}' is not understood as the command '{phrase.name}'. "
                            "Fix: put the word itself first among the command's phrasings")
    return problems
