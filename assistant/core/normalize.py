"""Turn typed or recognized text into comparable tokens: lower case, no punctuation, contractions expanded,
spelled letters joined ("o t" -> "ot"), fillers dropped, synonyms canonical ("physio" -> "pt"), and
stems for matching regardless of word endings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer

CONTRACTIONS = {
    "can't": "cannot", "cant": "cannot", "won't": "will not", "wont": "will not", "don't": "do not",
    "dont": "do not", "doesn't": "does not", "doesnt": "does not", "didn't": "did not", "didnt": "did not",
    "isn't": "is not", "isnt": "is not", "aren't": "are not", "wasn't": "was not", "weren't": "were not",
    "couldn't": "could not", "couldnt": "could not", "shouldn't": "should not", "wouldn't": "would not",
    "haven't": "have not", "hasn't": "has not", "i'm": "i am", "im": "i am", "it's": "it is",
    "what's": "what is", "whats": "what is", "that's": "that is", "thats": "that is", "there's": "there is",
    "he's": "he is", "she's": "she is", "who's": "who is", "where's": "where is", "how's": "how is",
    "you're": "you are", "we're": "we are", "they're": "they are", "i've": "i have", "ive": "i have",
    "we've": "we have", "you've": "you have", "i'd": "i would", "i'll": "i will", "let's": "let us",
    "gonna": "going to", "wanna": "want to", "gotta": "got to", "dunno": "do not know",
}
FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "eh"})
# Words that carry no topic: they never count for or against a topic.
FUNCTION_WORDS = frozenset("""
a an the is am are was were be been being it its of to in on at for from by with and or but so if then
than that this these those there here i me my mine myself you your yours we us our they them their he him
his she her hers one ones some any all just really very quite too also actually basically please tell
know want like would could can will shall may might must have has had get got getting say said go going
well okay ok oh hey hi hello thanks thank kind sort bit lot lots thing things something anything stuff
about into up down out over again now today still even much many more most such own other another
let us wondering wonder question ask asking exactly anyway anyways supposed usually simple simply plain
words word guess think maybe perhaps probably kinda sorta yeah
""".split())
PERSON_WORDS = frozenset("""
i me my myself we our us mum dad husband wife son daughter he she him her his grandma
grandpa grandmother grandfather granny nan nana grandad partner brother sister friend aunt uncle child
kid kids baby boy girl patient neighbour neighbor
""".split())
# Stands between sentences (and where a look-alike phrase was removed): no phrase, negation or look-alike
# reaches across it, so "I don't know. She collapsed" is still an emergency.
BREAK = "\x00"
# A comma (or an ellipsis) in the red-flag check's words: phrases read across it, as speech-to-text engines put
# commas anywhere ("Help, I've fallen."), but a negation does not ("No, she's not breathing").
PAUSE = "\x01"
# Said around an emergency without changing it ("my chest is LIKE killing me", "he's REALLY bleeding"): left out
# of the red-flag check's words, and of its phrases, so neither has to list them.
RED_FLAG_FILLERS = frozenset({"like", "really", "very", "so", "literally", "actually", "honestly", "totally",
                              "oh", "god", "please", "okay", "ok", "well", "right"})
RED_FLAG_FILLER_PAIRS = frozenset({("you", "know"), ("i", "mean"), ("kind", "of"), ("sort", "of"),
                                   ("oh", "my")})
# "mum's on the floor": the 's is "is" before these words (else a possessive, dropped: "mum's face")
_IS_AFTER = frozenset({"on", "in", "lying", "having", "not", "bleeding", "choking", "gasping", "struggling",
                       "fitting", "convulsing", "unconscious", "unresponsive", "stuck", "out", "down", "going",
                       "turning", "wheezing", "panting", "suffocating", "slurring", "talking", "shaking",
                       "seizing", "jerking", "losing", "coughing", "vomiting", "clutching", "sweating"})
# "he's had", "mum's been": the 's is "has" before these words (elsewhere it is "is", or a possessive dropped)
_HAS_AFTER = frozenset({"had", "been", "got", "gone", "fallen", "collapsed", "fainted", "stopped", "passed",
                        "taken", "cut", "hit", "banged", "blacked"})
# Looked past to find the verb the 's stands before: "dad's JUST had a fall" is "dad has just had a fall"
_ADVERBS_AFTER_S = frozenset({"just", "already", "only", "suddenly", "also", "actually", "really", "now", "so",
                              "very", "like", "literally", "totally", "all"})

_stemmer = snowballstemmer.stemmer("english")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'", "\u02bc": "'",
                              "\u2032": "'"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.!?;:,\u2026]+")
_DOTTED_LETTER = re.compile(r"\b([a-z])\.")


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    return _stemmer.stemWord(word)


def _join_spelled_letters(tokens: list[str]) -> list[str]:
    """'o t' -> 'ot', 'n b c o t' -> 'nbcot'; a leading 'a' or 'i' stays a word ('is a p t' -> 'a pt')."""
    result: list[str] = []
    run: list[str] = []

    def flush() -> None:
        # "a" and "i" at either end of a run are words: "is a p t a doctor" -> is a pt a doctor
        head = [run.pop(0)] if len(run) >= 3 and run[0] in ("a", "i") else []
        tail = [run.pop()] if len(run) >= 3 and run[-1] in ("a", "i") else []
        if len(run) >= 2 and not (len(run) == 2 and (run[0] in ("a", "i") or run[-1] in ("a", "i"))):
            letters = ["".join(run)]
        else:
            letters = list(run)
        result.extend(head + letters + tail)
        run.clear()

    for token in tokens:
        if len(token) == 1 and token.isalpha() and token not in (BREAK, PAUSE):
            run.append(token)
        else:
            flush()
            result.append(token)
    flush()
    return result


def basic_tokens(text: str, pauses: bool = False) -> list[str]:
    """Lower-cased words with contractions expanded, possessive 's dropped and fillers removed; with `pauses`,
    a comma is a PAUSE rather than a BREAK."""
    # Apostrophe look-alikes first: NFKC would turn an acute accent into a combining mark.
    text = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).translate(_APOSTROPHES).lower()
    text = _DOTTED_LETTER.sub(r"\1 ", text)  # "o.t." -> "o t", not the end of a sentence
    tokens: list[str] = []
    words = _WORD.findall(text)
    for index, word in enumerate(words):
        if not word[0].isalnum():
            mark = PAUSE if pauses and word.strip(",\u2026") == "" else BREAK
            if tokens and tokens[-1] in (BREAK, PAUSE):  # never a leading or doubled break
                tokens[-1] = BREAK if BREAK in (mark, tokens[-1]) else PAUSE
            elif tokens:
                tokens.append(mark)
            continue
        ahead = index + 1
        while ahead < len(words) and words[ahead] in _ADVERBS_AFTER_S:
            ahead += 1
        following = words[ahead] if ahead < len(words) else ""
        expanded = CONTRACTIONS.get(word)
        if expanded is not None and expanded.endswith(" is") and following in _HAS_AFTER:
            expanded = expanded[:-3] + " has"  # "he's had a stroke": he has had
        elif expanded is None and word.endswith("'s"):
            verb = "has" if following in _HAS_AFTER else "is" if following in _IS_AFTER else ""
            expanded = f"{word[:-2]} {verb}".strip()
        elif expanded is None and "'" in word:
            expanded = word.replace("'", "")
        for token in (expanded or word).split():
            if token and token not in FILLERS:
                tokens.append(token)
    while tokens and tokens[-1] in (BREAK, PAUSE):
        tokens.pop()
    return _join_spelled_letters(tokens)


def red_flag_tokens(text: str) -> list[str]:
    """The words the red-flag check reads: commas kept as PAUSEs, RED_FLAG_FILLERS left out."""
    return without_red_flag_fillers(basic_tokens(text, pauses=True))


def without_red_flag_fillers(tokens: Sequence[str]) -> list[str]:
    kept: list[str] = []
    i = 0
    while i < len(tokens):
        if tuple(tokens[i:i + 2]) in RED_FLAG_FILLER_PAIRS:
            i += 2
            continue
        if tokens[i] not in RED_FLAG_FILLERS:
            kept.append(tokens[i])
        i += 1
    return kept


class Canonicalizer:
    """Rewrites synonym variants to their canonical words (longest variant first)."""

    def __init__(self, synonyms: dict[str, Sequence[str]]):
        self._variants: dict[tuple[str, ...], tuple[str, ...]] = {}
        for canonical, variants in synonyms.items():
            target = tuple(basic_tokens(canonical))
            for variant in variants:
                key = tuple(basic_tokens(variant))
                if key and key != target:
                    self._variants[key] = target
        self._longest = max((len(k) for k in self._variants), default=0)

    def apply(self, tokens: Sequence[str]) -> list[str]:
        result: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self._longest, len(tokens) - i), 0, -1):
                replacement = self._variants.get(tuple(tokens[i:i + size]))
                if replacement is not None:
                    result.extend(replacement)
                    i += size
                    break
            else:
                result.append(tokens[i])
                i += 1
        return result


def stems(tokens: Iterable[str]) -> list[str]:
    return [stem(t) for t in tokens]


def find_phrase(haystack: Sequence[str], needle: Sequence[str], start: int = 0) -> int:
    """Index of the first contiguous occurrence of needle in haystack at or after start, or -1."""
    size = len(needle)
    if size == 0:
        return -1
    hay = haystack if isinstance(haystack, list) else list(haystack)
    first, rest = needle[0], list(needle[1:])
    while True:
        try:
            i = hay.index(first, start)  # C-speed scan for the first word: this runs for every signal
        except ValueError:
            return -1
        if hay[i + 1:i + size] == rest:
            return i
        start = i + 1
