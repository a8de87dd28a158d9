"""Pronunciations (CMU ARPAbet) for the domain words: from the dictionary in the pocketsphinx wheel, else guessed.

Guesses, in order: a spelled acronym ("pt" -> P IY T IY, "nbcot"), a plural or possessive of a known word
("ots", "therapy's"), and finally espeak-ng's own letter-to-sound rules (already installed for speaking),
its IPA mapped to ARPAbet. A word nothing can pronounce is left out of the vocabulary (and logged).
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

_VARIANT = re.compile(r"\(\d+\)$")
_VOWELS = set("aeiouy")
_VOICELESS = {"P", "T", "K", "F", "TH"}
_SIBILANTS = {"S", "Z", "SH", "ZH", "CH", "JH"}

# espeak-ng's en-us IPA -> ARPAbet, longest symbols first (stress and length marks are dropped before).
_IPA = {
    "aɪɚ": "AY ER", "aʊɚ": "AW ER", "ɑːɹ": "AA R", "ɔːɹ": "AO R", "oːɹ": "AO R", "ɛɹ": "EH R", "ɪɹ": "IH R",
    "ʊɹ": "UH R", "eɪ": "EY", "aɪ": "AY", "aʊ": "AW", "oʊ": "OW", "ɔɪ": "OY", "tʃ": "CH", "dʒ": "JH",
    "n̩": "AH N", "l̩": "AH L", "m̩": "AH M",
    "ɑ": "AA", "æ": "AE", "ʌ": "AH", "ə": "AH", "ɐ": "AH", "ɚ": "ER", "ɝ": "ER", "ɜ": "ER", "ɔ": "AO",
    "ɛ": "EH", "e": "EY", "ɪ": "IH", "ᵻ": "IH", "i": "IY", "o": "OW", "ʊ": "UH", "u": "UW", "a": "AA",
    "b": "B", "d": "D", "ð": "DH", "f": "F", "ɡ": "G", "g": "G", "h": "HH", "k": "K", "l": "L", "ɫ": "L",
    "m": "M", "n": "N", "ŋ": "NG", "p": "P", "ɹ": "R", "r": "R", "s": "S", "ʃ": "SH", "t": "T", "ɾ": "T",
    "θ": "TH", "v": "V", "w": "W", "j": "Y", "z": "Z", "ʒ": "ZH", "x": "K", "ʔ": "",
}
_IPA_KEYS = sorted(_IPA, key=len, reverse=True)
_IPA_IGNORED = set("ˈˌː.ˑ‿ -_")


def load_dictionary(path: Path, wanted: set[str] | None = None) -> dict[str, list[str]]:
    """word -> pronunciations from a CMU-format dictionary ("word(2) P R ..."); only `wanted` words if given."""
    prons: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            head, _, phones = line.strip().partition(" ")
            word = _VARIANT.sub("", head)
            if phones and (wanted is None or word in wanted):
                prons.setdefault(word, []).append(phones.strip())
    return prons


def ipa_to_arpabet(ipa: str) -> str | None:
    """Map an espeak-ng IPA string to ARPAbet phones; None when a symbol has no mapping."""
    text = "".join(ch for ch in ipa.strip() if ch not in _IPA_IGNORED)
    phones: list[str] = []
    i = 0
    while i < len(text):
        for key in _IPA_KEYS:
            if text.startswith(key, i):
                if _IPA[key]:
                    phones.extend(_IPA[key].split())
                i += len(key)
                break
        else:
            return None
    return " ".join(phones) or None


def espeak_pronunciations(words: Iterable[str], voice: str = "en-us") -> dict[str, str]:
    """espeak-ng's pronunciation of each word (ARPAbet); words it cannot do are missing from the result."""
    words = list(words)
    exe = shutil.which("espeak-ng")
    if not words or exe is None:
        return {}
    result: dict[str, str] = {}
    for word in words:  # one call per word: only a handful of words ever get here, and lines never merge
        try:
            out = subprocess.run([exe, "-q", "--ipa", "-v", voice, word], capture_output=True, text=True,
                                 timeout=10, check=True).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("espeak-ng could not pronounce %r: %s", word, exc)
            continue
        phones = ipa_to_arpabet(out)
        if phones:
            result[word] = phones
    return result


def _stems(word: str) -> set[str]:
    stems = {word}
    for suffix, repl in (("'s", ""), ("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"),
                         ("ing", ""), ("ing", "e"), ("er", ""), ("est", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)] + repl
            stems.add(stem)
            if len(stem) >= 4 and stem[-1] == stem[-2] and suffix in ("ed", "ing", "er", "est"):
                stems.add(stem[:-1])  # "slipped" -> "slip"
    return stems


def inflections(words: Iterable[str], dictionary: dict[str, list[str]]) -> set[str]:
    """Other forms of the words that the dictionary knows: hurt -> hurts, hurting; button -> buttons.
    People say "my knee hurts" where the content lists "knee hurt"."""
    found: set[str] = set()
    for word in words:
        if "'" in word and not word.endswith("'s"):
            continue
        for stem in _stems(word):
            forms = {stem, stem + "s", stem + "es", stem + "'s", stem + "ed", stem + "d", stem + "ing",
                     stem + stem[-1] + "ed", stem + stem[-1] + "ing"}
            if stem.endswith("y"):
                forms |= {stem[:-1] + "ies", stem[:-1] + "ied"}
            if stem.endswith("e"):
                forms.add(stem[:-1] + "ing")
            found.update(f for f in forms if f in dictionary)
    return found - set(words)


def _plural(phones: str) -> str:
    last = phones.split()[-1]
    if last in _SIBILANTS:
        return f"{phones} IH Z"
    return f"{phones} {'S' if last in _VOICELESS else 'Z'}"


def guess(word: str, dictionary: dict[str, list[str]]) -> list[str]:
    """Pronunciations for a word missing from the dictionary, without espeak-ng (see `pronounce`)."""
    letters = word.replace("'", "")
    if letters.isalpha() and not (_VOWELS & set(letters)) and all(c in dictionary for c in letters):
        return [" ".join(dictionary[c][0] for c in letters)]  # an acronym: said letter by letter
    for suffix in ("'s", "s", "'"):
        stem = word[: -len(suffix)]
        if word.endswith(suffix) and stem in dictionary:
            if suffix == "'":
                return list(dictionary[stem])
            return [_plural(p) for p in dictionary[stem]]
        if word.endswith(suffix) and stem and not (_VOWELS & set(stem)) and all(c in dictionary for c in stem):
            return [_plural(" ".join(dictionary[c][0] for c in stem))]  # "pts", "pt's"
    return []


def pronounce(words: Iterable[str], dictionary: dict[str, list[str]]) -> tuple[dict[str, list[str]], list[str]]:
    """(word -> pronunciations, words left out). Dictionary first, then rules, then espeak-ng."""
    prons: dict[str, list[str]] = {}
    unknown: list[str] = []
    for word in sorted(set(words)):
        found = dictionary.get(word) or guess(word, dictionary)
        if found:
            prons[word] = list(found)
        else:
            unknown.append(word)
    spoken = espeak_pronunciations(unknown)
    for word, phones in spoken.items():
        prons[word] = [phones]
    missing = [w for w in unknown if w not in spoken]
    if missing:
        log.warning("no pronunciation for %s: left out of the recognizer's vocabulary", ", ".join(missing))
    return prons, missing


def write_dictionary(prons: dict[str, list[str]], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        for word in sorted(prons):
            for i, phones in enumerate(dict.fromkeys(prons[word])):
                out.write(f"{word if i == 0 else f'{word}({i + 1})'} {phones}\n")
