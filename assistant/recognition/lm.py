"""A small trigram language model (ARPA text) from the domain phrases, with a background of common words.

The domain phrases carry most of the probability, so the recognizer expects what people ask here. A
background share (`background_mass`) is spread over common English words (by their unigram frequency):
speech outside the domain then comes out as ordinary words ("play some music") instead of being forced
onto domain phrases, which is what lets the understanding say "I don't know". Back-off uses a fixed
discount, as pocketsphinx's own `pocketsphinx.lm` does; probabilities sum to one at every history.
(Measured on the recognizer's dev set, see sphinx.py: discount 0.3 instead of 0.5 gave 377 vs 376 correct
decisions of 516, 161 vs 162 emergencies of 216: no reason to change.)
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

START, END = "<s>", "</s>"


def _log10(p: float) -> float:
    return math.log10(p) if p > 0 else -99.0


def write_arpa(sentences: Sequence[Sequence[str]], path: Path, background: dict[str, float] | None = None,
               background_mass: float = 0.0, discount: float = 0.5, extra_words: Iterable[str] = ()) -> None:
    """`background`: word -> relative frequency (any scale); it gets `background_mass` of the unigram mass.
    `extra_words` count as domain words seen once, on their own (other forms of domain words: "hurts")."""
    if not sentences:
        raise ValueError("a language model needs at least one phrase")
    c1: Counter[str] = Counter()
    c2: defaultdict[str, Counter[str]] = defaultdict(Counter)
    c3: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for sentence in sentences:
        words = [START, *sentence, END]
        for i, word in enumerate(words):
            c1[word] += 1
            if i + 1 < len(words):
                c2[word][words[i + 1]] += 1
            if i + 2 < len(words):
                c3[(word, words[i + 1])][words[i + 2]] += 1

    for word in extra_words:
        if word not in c1:
            c1[word] = 1
    background = {w: f for w, f in (background or {}).items() if f > 0 and w not in (START, END)}
    mass = background_mass if background else 0.0
    total = sum(n for w, n in c1.items() if w != START)
    p1 = {w: (1 - mass) * n / total for w, n in c1.items() if w != START}
    scale = sum(background.values()) or 1.0
    for word, freq in background.items():
        p1[word] = p1.get(word, 0.0) + mass * freq / scale
    p2 = {(a, b): (1 - discount) * n / c1[a] for a, nexts in c2.items() for b, n in nexts.items()}
    p3 = {(a, b, c): (1 - discount) * n / c2[a][b] for (a, b), nexts in c3.items() for c, n in nexts.items()}

    def alpha1(a: str) -> float:
        if a not in c2:
            return 1.0
        return discount / max(1e-12, 1 - sum(p1[b] for b in c2[a]))

    def alpha2(a: str, b: str) -> float:
        if (a, b) not in c3:
            return 1.0
        return discount / max(1e-12, 1 - sum(p2[(b, c)] for c in c3[(a, b)]))

    with open(path, "w", encoding="utf-8") as out:
        out.write(f"\\data\\\nngram 1={len(p1) + 1}\nngram 2={len(p2)}\nngram 3={len(p3)}\n\n\\1-grams:\n")
        out.write(f"-99.0000 {START} {_log10(alpha1(START)):.4f}\n")
        for word in sorted(p1):
            out.write(f"{_log10(p1[word]):.4f} {word} {_log10(alpha1(word)):.4f}\n")
        out.write("\n\\2-grams:\n")
        for (a, b), p in sorted(p2.items()):
            out.write(f"{_log10(p):.4f} {a} {b} {_log10(alpha2(a, b)):.4f}\n")
        out.write("\n\\3-grams:\n")
        for (a, b, c), p in sorted(p3.items()):
            out.write(f"{_log10(p):.4f} {a} {b} {c}\n")
        out.write("\n\\end\\\n")
