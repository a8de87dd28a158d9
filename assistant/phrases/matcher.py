"""Personal phrase matching: an utterance's features against the person's recordings (pure numpy).

    matcher = PhraseMatcher({"stop": [f1, f2, f3], "yes": [...]})   # features from features.py
    match = matcher.match(features)       # Match(name, distance, threshold, ...) or None

How (rhasspy-wake-raven style, made to refuse other speech):
- Dynamic time warping of the whole utterance against each recording, cosine distance between frames,
  local slopes limited to 1/2..2 (steps (1,1), (1,2), (2,1)): a sentence more than about twice as long
  or short as a recording cannot match it at all (and costs nothing), so "stop" never matches "please
  stop talking now". Up to EDGE of either end may be left out, as a weak "s" or "t" comes and goes.
- A phrase's distance is the mean of its two nearest recordings (one lucky recording is not enough).
- Each phrase's threshold comes from how far apart the person's own takes are, kept inside fixed
  bounds; the best phrase must also be clearly nearer than the runner-up, else there is no match.

Constants were tuned on simulated people (tests/impaired_voice.Person seeds 1 and 2, `bench.phrases dev`);
`bench.phrases` measures on other people and other utterances. The alternatives measured and not kept
(other features, embedding networks, more takes, looser thresholds) are in docs/decisions.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Tuned on the dev people of bench/phrases.py; held-out figures in docs/decisions.md.
THRESHOLD_FACTOR = 2.0  # x the mean distance between the person's own takes of the phrase
THRESHOLD_MIN = 0.06
THRESHOLD_MAX = 0.10
MARGIN = 0.7  # the best phrase's distance must be below this fraction of the runner-up's
NEAREST = 2  # recordings averaged per phrase
ALIKE = 1.5  # a recording of one phrase within this x the other's threshold: too alike to tell apart
INCONSISTENT = 0.3  # takes of one phrase further apart than this: worth recording again
EDGE = 0.15  # fraction of either end a warping path may leave out


@dataclass(frozen=True)
class Match:
    name: str
    distance: float
    threshold: float
    runner_up: str | None
    runner_up_distance: float


def _unit_rows(features: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return (features / np.maximum(norms, 1e-6)).astype(np.float32)


class _Bank:
    """All recordings padded into one block, so one utterance is warped against all of them at once."""

    def __init__(self, recordings: list[np.ndarray]) -> None:
        self.lengths = np.array([len(r) for r in recordings])
        width = int(self.lengths.max())
        dims = recordings[0].shape[1]
        self.frames = np.zeros((len(recordings), width, dims), dtype=np.float32)
        for k, rec in enumerate(recordings):
            self.frames[k, :len(rec)] = _unit_rows(rec)

    def distances(self, features: np.ndarray) -> np.ndarray:
        """Path-normalised DTW distance from `features` to each recording (inf where none is possible)."""
        n = len(features)
        # Beyond the warping slopes (2x, plus the loose ends) there is no path: a sentence costs nothing.
        possible = (n <= 2.5 * self.lengths) & (n >= 0.4 * self.lengths)
        result = np.full(len(self.lengths), np.inf)
        if possible.any():
            width = int(self.lengths[possible].max())
            result[possible] = _warp(_unit_rows(features), self.frames[possible, :width], self.lengths[possible])
        return result


def _warp(query: np.ndarray, frames: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """DTW of one query against padded recordings (all at once), normalised by the path length."""
    count, width, _ = frames.shape
    n = len(query)
    cost = 1.0 - np.einsum("nd,kmd->nkm", query, frames)  # (n, K, M) cosine distances
    inf = np.float32(np.inf)
    columns = np.arange(width)[None, :]
    # Loose ends: where a phrase starts and stops is never exact (a soft "s", a breath), so a path
    # may skip up to EDGE of either side at the start and at the end.
    start_cols = columns < np.maximum(1, (EDGE * lengths)[:, None])
    start_rows = max(1, int(EDGE * n))
    end_cols = columns >= (lengths * (1 - EDGE))[:, None] - 1
    last_col = np.arange(count), lengths - 1
    before = np.full((count, width), inf, dtype=np.float32)  # D[i-2]
    last = np.full((count, width), inf, dtype=np.float32)  # D[i-1]
    best_end = np.full(count, inf, dtype=np.float32)
    for i in range(n):
        c = cost[i]
        if i == 0:
            row = np.where(start_cols, 2.0 * c, inf).astype(np.float32)
        else:
            row = np.full((count, width), inf, dtype=np.float32)
            # (1,1) weighs 2, the slanted steps 3: every path's weights add up to about n + m
            row[:, 1:] = last[:, :-1] + 2.0 * c[:, 1:]
            row[:, 2:] = np.minimum(row[:, 2:], last[:, :-2] + 3.0 * c[:, 2:])
            if i >= 2:
                row[:, 1:] = np.minimum(row[:, 1:], before[:, :-1] + 3.0 * c[:, 1:])
            if i < start_rows:
                row[:, 0] = 2.0 * c[:, 0]
        if i >= n * (1 - EDGE) - 1:
            best_end = np.minimum(best_end, row[last_col])
        before, last = last, row
    best_end = np.minimum(best_end, np.where(end_cols, last, inf).min(axis=1))
    return best_end / (n + lengths)


class PhraseMatcher:
    def __init__(self, phrases: dict[str, list[np.ndarray]]) -> None:
        self.names = sorted(name for name, recs in phrases.items() if recs)
        recordings = [rec for name in self.names for rec in phrases[name]]
        self.owner = np.array([self.names.index(name) for name in self.names for _ in phrases[name]])
        self.bank = _Bank(recordings) if recordings else None
        self.spreads = {name: self._spread(phrases[name]) for name in self.names}
        self.thresholds = {name: float(np.clip(THRESHOLD_FACTOR * spread, THRESHOLD_MIN, THRESHOLD_MAX))
                           for name, spread in self.spreads.items()}

    @staticmethod
    def _spread(recordings: list[np.ndarray]) -> float:
        """How far the person's own takes of a phrase are from each other (leave-one-out)."""
        if len(recordings) < 2:
            return THRESHOLD_MIN / THRESHOLD_FACTOR
        bank = _Bank(recordings)
        spread = []
        for k, rec in enumerate(recordings):
            others = np.delete(bank.distances(rec), k)
            spread.append(float(np.mean(np.sort(others)[:NEAREST])))
        return float(np.mean(spread))

    def distances(self, features: np.ndarray) -> dict[str, float]:
        """Each phrase's distance: the mean of its NEAREST closest recordings."""
        if self.bank is None:
            return {}
        each = self.bank.distances(features)
        result = {}
        for index, name in enumerate(self.names):
            mine = np.sort(each[self.owner == index])[:NEAREST]
            result[name] = float(np.mean(mine))
        return result

    def match(self, features: np.ndarray | None) -> Match | None:
        """The phrase said, when one fits within its threshold and clearly better than any other."""
        best = self.nearest(features)
        return best if best is not None and best.distance <= best.threshold else None

    def nearest(self, features: np.ndarray | None) -> Match | None:
        """The clearly nearest phrase, however far (the caller may accept it on other evidence)."""
        if features is None or self.bank is None:
            return None
        ranked = sorted(self.distances(features).items(), key=lambda item: item[1])
        name, distance = ranked[0]
        runner, runner_distance = ranked[1] if len(ranked) > 1 else (None, float("inf"))
        if not np.isfinite(distance):
            return None
        if runner is not None and distance > MARGIN * runner_distance:
            return None  # two phrases fit about equally: not confident
        return Match(name, distance, self.thresholds[name], runner, runner_distance)

    def inconsistent(self) -> list[str]:
        """Phrases whose own takes differ so much that a new take will rarely match them."""
        return [name for name, spread in self.spreads.items() if spread > INCONSISTENT]

    def too_alike(self) -> list[tuple[str, str, float]]:
        """Pairs of phrases where a recording of one comes near matching the other."""
        pairs = []
        for a in self.names:
            for b in self.names:
                if a < b:
                    between = min(self._between(a, b), self._between(b, a))
                    if between < ALIKE * max(self.thresholds[a], self.thresholds[b]):
                        pairs.append((a, b, between))
        return pairs

    def _between(self, a: str, b: str) -> float:
        """The distance from a's nearest recording to phrase b."""
        assert self.bank is not None
        ia, ib = self.names.index(a), self.names.index(b)
        values = []
        for k in np.nonzero(self.owner == ia)[0]:
            each = self.bank.distances(self.bank.frames[k, :self.bank.lengths[k]])
            values.append(float(np.mean(np.sort(each[self.owner == ib])[:NEAREST])))
        return float(np.min(values))
