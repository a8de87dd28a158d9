"""Content phrases -> the word sequences a recognizer should expect ("o.t." -> "o t", "911" -> "nine one one")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.core.content import Content

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'"})
_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*|[0-9]+")  # letters of any script (Korean too), or digits


def spoken_words(phrase: str) -> list[str]:
    """The words of a phrase as people say them: lower case, letters of "o.t." apart, digits one by one."""
    text = unicodedata.normalize("NFKC", phrase.translate(_APOSTROPHES)).lower()
    text = text.replace(".", " ")
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token.isascii() and token.isdigit():
            words.extend(_DIGITS[int(d)] for d in token)  # emergency numbers are said digit by digit
        else:
            words.append(token)
    return words


def sentences(phrases: Iterable[str], unique: bool = False) -> list[list[str]]:
    """Each phrase as a word list, empty ones dropped. A phrase given twice counts twice in a language
    grammar weighs them alike; `unique` drops the repeats."""
    seen: set[tuple[str, ...]] = set()
    result: list[list[str]] = []
    for phrase in phrases:
        words = spoken_words(phrase)
        if words and not (unique and tuple(words) in seen):
            seen.add(tuple(words))
            result.append(words)
    return result


def content_phrases(content: Content) -> list[str]:
    """What people may say, for a grammar recognizer (Vosk): the content's domain phrases plus the words
    the understanding also listens for (topic keywords, difficulty cues, the words of red-flag combinations
    such as "numb", look-alikes such as "chest of drawers"): a word missing here could never be heard."""
    phrases = list(content.domain_phrases())
    for topic in content.topics.values():
        phrases.extend(topic.keywords)
    phrases.extend(content.triage.difficulty_cues)
    phrases.extend(content.red_flags.not_emergency)
    for rule in content.red_flags.rules:
        for combo in rule.combos:
            for group in combo:
                phrases.extend(group)
            if len(combo) == 2 and len(combo[0]) * len(combo[1]) <= 100:  # "face drooping", "suddenly numb"
                phrases.extend(f"{a} {b}" for a in combo[0] for b in combo[1])
    return phrases
