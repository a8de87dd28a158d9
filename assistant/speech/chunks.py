"""Cut an answer into pieces to synthesize one after another, so the first plays while the rest are made.

Pure text handling. Sentences are the natural unit (espeak ends each piece with a sentence pause); a very
long first sentence is cut at a comma so the first audio is never held up by a long synthesis.
"""

from __future__ import annotations

import re

FIRST_CHUNK_MAX_CHARS = 160  # ~40 ms of espeak-ng synthesis measured here; later chunks may be longer
MIN_CUT_CHARS = 25  # do not cut off a tiny fragment like "Yes," on its own

_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")
_LINES = re.compile(r"\s*\n\s*(?:[-*\u2022]\s+)?")
_CLAUSE_END = re.compile(r"[,;:\u2014]\s+")
_ABBREVIATION = re.compile(r"(?:^|\s)(?:Dr|Mr|Mrs|Ms|St|Prof|vs|etc|e\.g|i\.e|No)\.$", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    """Sentences (and list items or lines) of `text`, whitespace tidied, nothing empty."""
    pieces: list[str] = []
    for line in _LINES.split(text.strip()):
        line = " ".join(line.split())
        if not line:
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            if _ABBREVIATION.search(line[:match.start()]):
                continue  # "Dr. Smith" is one sentence
            pieces.append(line[start:match.start()].strip() + line[match.start():match.end()].strip())
            start = match.end()
        pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def split_first(sentence: str, max_chars: int = FIRST_CHUNK_MAX_CHARS) -> list[str]:
    """A long sentence cut at the last clause break before max_chars (else left whole)."""
    if len(sentence) <= max_chars:
        return [sentence]
    cut = None
    for match in _CLAUSE_END.finditer(sentence):
        if MIN_CUT_CHARS <= match.start() < max_chars:
            cut = match
    if cut is None:
        return [sentence]
    return [sentence[:cut.end()].strip(), sentence[cut.end():].strip()]


def speech_chunks(text: str, max_first_chars: int = FIRST_CHUNK_MAX_CHARS) -> list[str]:
    """The pieces to synthesize in order: the sentences, with a long first one cut at a comma."""
    parts = sentences(text)
    if not parts:
        return []
    return [*split_first(parts[0], max_first_chars), *parts[1:]]
