"""Understanding (pure): text -> Decision. Order matters for safety:

1. normalize; nothing left -> unknown ("didn't catch that")
2. emergency red flags FIRST (look-alikes removed, negations respected)
3. voice commands (short utterances close to a command phrasing)
4. statements of difficulty -> triage pt / ot / both
5. questions -> the best topic, with confidence; close candidates -> confirm; no domain evidence -> unknown
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from assistant.core.content import Content, Topic
from assistant.core.decision import Decision
from assistant.core.normalize import (
    BREAK,
    FUNCTION_WORDS,
    PAUSE,
    PERSON_WORDS,
    Canonicalizer,
    basic_tokens,
    find_phrase,
    red_flag_tokens,
    stem,
    stems,
    without_red_flag_fillers,
)
from assistant.core.question_end import Subjects

QUESTION_WORDS = frozenset({"what", "how", "where", "who", "which", "why", "when", "does", "do", "is", "are",
                            "can", "could", "should", "will", "would", "tell", "explain", "define"})
DISCIPLINE_WORDS = {"pt": "pt", "ot": "ot"}
# A question after some context starts with one of these: "my dad starts pt monday, WHAT will they do"
CLAUSE_QUESTION_WORDS = frozenset({"what", "how", "where", "who", "which", "why", "when"})
TOPIC_MIN = 0.30  # below this, nothing in the content answers it: honest "I don't know"
TOPIC_SURE = 0.45  # at or above this (and clear of the runner-up), answer without asking
CLEAR_MARGIN = 0.06
DOUBT_FACTOR = 0.7  # confidence kept by an answer found in doubtful words (see Understander.doubted)
# Before "therapy" the content only ever names these two, so a word unlike any the content uses, there, is one
# of them misheard ("aquaipational", "occasional"): a looser match. Measured on the recognition dev clips
# (292): 244 -> 246 right; held out once, 237 -> 238 of 290; emergencies and false ones unchanged. Other
# therapies' names are left as said ("vocational therapy" is not occupational therapy misheard).
THERAPY_NAMES = ("occupational", "physical")
OTHER_THERAPY_NAMES = ("vocational", "educational", "recreational", "speech", "massage", "music", "art")
THERAPY_NAME_CHOICES = THERAPY_NAMES + OTHER_THERAPY_NAMES
THERAPY_NAME_CUTOFF = 70
PAIN_STEMS = frozenset(stem(w) for w in ("pain", "painful", "hurt", "hurts", "hurting", "ache", "aching", "sore",
                                          "cramp", "cramps", "killing"))
BARE_HELP_WORDS = frozenset({"help", "me", "us", "please", "oh", "god", "now"})
POLITE = ("please", "now", "thanks", "thank", "you", "can", "could", "would", "just", "okay", "ok", "hey")
# Words around a command that do not change it ("can you talk A BIT slower FOR ME").
COMMAND_NOISE = frozenset(POLITE) | frozenset({
    "a", "bit", "little", "the", "that", "this", "it", "sorry", "so", "and", "me", "for", "will", "i",
    "am", "is", "are", "your", "my", "to", "be", "oh", "well", "right", "there", "way", "much", "then", "very",
    "questions", "question", "kind", "sort", "of", "things",
})


@dataclass(frozen=True)
class _Phrase:
    stems: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> _Phrase:
        return cls(tuple(stems(basic_tokens(text))))

    def find(self, haystack: Sequence[str]) -> int:
        return find_phrase(haystack, self.stems)


MAX_NEGATION_BETWEEN = 3  # "never HAD A seizure", "don't HAVE ANY chest pain"
GAPPED_PHRASE_WORDS = 3  # a red-flag phrase this long may have one other word inside: "lying on the KITCHEN floor"
# History, not now (as content/red_flags.yaml's header says): in a clause that says when in the past ("had a
# stroke LAST YEAR", "mum fell IN MARCH") or just after "since", "after", "when", "following", "recovering"
# ("since my stroke", "after a heart attack", "when I fell"), the words of a past event are left out of the
# red-flag check. A clause ends at a comma, a sentence end or "now" ("had a fall last year and NOW she's on the
# floor" is an emergency). Present words ("having a seizure", "on the floor") are never left out.
PAST_TIMES = tuple(tuple(stems(t.split())) for t in (
    "last year", "last month", "last week", "last winter", "last summer", "last spring", "last autumn",
    "last fall", "last christmas", "year ago", "years ago", "month ago", "months ago", "week ago", "weeks ago",
    "while back", "while ago", "in the past", "years back", "as a child", "as a kid", "twice", "few times",
    "several times", "many times", "once before"))
PAST_MONTHS = frozenset("""january february march april june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec""".split())  # "in may" is left out: "may" is a verb too
HISTORY_AFTER = frozenset(stem(w) for w in ("since", "after", "following", "when", "recovering"))
HISTORY_WINDOW = 3  # words from "since" to the event: "since SHE HAD a stroke", "after A HEART attack"
PAST_EVENTS = frozenset(stem(w) for w in """had fell fallen fall falls fainted collapsed passed blacked tripped
slipped landed hit banged knocked bumped took taken tumble stroke strokes seizure seizures fit fits heart
attack overdose""".split())
CLAUSE_ENDS = frozenset({BREAK, "now"})


@dataclass(frozen=True)
class _Heard:
    """The red-flag check's words: no commas (`pause_before` marks where one was), look-alikes blanked out."""

    tokens: list[str]
    pause_before: list[bool]

    @property
    def stems(self) -> list[str]:
        return stems(self.tokens)


class _RedFlagMatcher:
    """Red flags as content/red_flags.yaml describes them: phrases (with {someone} for whoever it is about),
    combinations, look-alikes removed first, and the negation rule written at the top of that file."""

    def __init__(self, content: Content):
        flags = content.red_flags
        self._heard_as = Canonicalizer(flags.heard_as)
        self.negations = frozenset(t for word in flags.negations for t in basic_tokens(word))
        self.between = frozenset(t for word in flags.negation_between for t in basic_tokens(word))
        self.exclusions = sorted({self._phrase(p) for p in flags.not_emergency}, key=lambda p: (-len(p.stems), p.stems))
        self.rules = [
            (rule.id, [phrase for text in rule.phrases for phrase in self._phrases(text, flags.someone)],
             [[[self._phrase(word) for word in group] for group in combo] for combo in rule.combos])
            for rule in flags.rules
        ]

    @staticmethod
    def _phrase(text: str) -> _Phrase:
        return _Phrase(tuple(stems(_joined(without_red_flag_fillers(basic_tokens(text))))))

    def _phrases(self, text: str, someone: Sequence[str]) -> list[_Phrase]:
        if "{someone}" not in text:
            return [self._phrase(text)]
        return [self._phrase(text.replace("{someone}", who)) for who in someone]

    def heard(self, text: str) -> _Heard:
        tokens: list[str] = []
        pause_before: list[bool] = []
        pause = False
        for token in _joined(self._heard_as.apply(red_flag_tokens(text))):
            if token == PAUSE:
                pause = True
                continue
            tokens.append(token)
            pause_before.append(pause)
            pause = False
        stem_seq = stems(tokens)
        present = set(stem_seq)
        for phrase in self.exclusions:  # "chest of drawers", "fell asleep": blanked out before matching
            if phrase.stems[0] not in present:
                continue
            start = 0
            while (pos := find_phrase(stem_seq, phrase.stems, start)) >= 0:
                start = pos + 1
                span = range(pos, pos + len(phrase.stems))
                if any(pause_before[i] for i in span[1:]):  # "a stroke, last week she was fine": two clauses
                    continue
                for i in span:
                    stem_seq[i] = tokens[i] = BREAK
        for i in _past_events(tokens, stem_seq, pause_before):
            stem_seq[i] = tokens[i] = BREAK
        return _Heard(tokens, pause_before)

    def _negated(self, heard: _Heard, position: int) -> bool:
        """A negation word just before the match, with at most MAX_NEGATION_BETWEEN `between` words and no
        comma or sentence end between: "no chest pain", "never had a seizure"; not "I don't know she collapsed"
        nor "No, she's not breathing"."""
        skipped = 0
        while not heard.pause_before[position] and position > 0:
            position -= 1
            token = heard.tokens[position]
            if token in self.negations:
                return True
            if token not in self.between or skipped == MAX_NEGATION_BETWEEN:
                return False
            skipped += 1
        return False

    def _first_unnegated(self, phrases: Sequence[_Phrase], heard: _Heard, stem_seq: Sequence[str]) -> int:
        present = set(stem_seq)
        for phrase in phrases:
            if phrase.stems[0] not in present:  # cheap test first: most phrases are not there at all
                continue
            gapped = len(phrase.stems) >= GAPPED_PHRASE_WORDS
            for pos in (i for i, s in enumerate(stem_seq) if s == phrase.stems[0]):
                if self._matches_at(phrase.stems, heard.tokens, stem_seq, pos, gapped) \
                        and not self._negated(heard, pos):
                    return pos
        return -1

    def _matches_at(self, needle: Sequence[str], tokens: Sequence[str], stem_seq: Sequence[str], pos: int,
                    gapped: bool) -> bool:
        """`needle` starts at pos, word after word, or with one other word inside it when `gapped` (never a
        negation or a sentence end: "i have NOT fallen" is no "i have fallen")."""
        i, gap = pos + 1, not gapped
        for word in needle[1:]:
            if i < len(stem_seq) and stem_seq[i] == word:
                i += 1
            elif (not gap and i + 1 < len(stem_seq) and stem_seq[i + 1] == word
                  and tokens[i] not in self.negations and tokens[i] != BREAK):
                gap, i = True, i + 2
            else:
                return False
        return True

    def match(self, text: str) -> str | None:
        """The id of the first red flag `text` raises, or None."""
        heard = self.heard(text)
        stem_seq = heard.stems
        for rule_id, phrases, combos in self.rules:
            if self._first_unnegated(phrases, heard, stem_seq) >= 0:
                return rule_id
            for groups in combos:
                if all(self._first_unnegated(group, heard, stem_seq) >= 0 for group in groups):
                    return rule_id
        return None


def _past_events(tokens: Sequence[str], stem_seq: Sequence[str], pause_before: Sequence[bool]) -> set[int]:
    """Where the words of a past event are ("had a stroke LAST YEAR", "SINCE my stroke"): see PAST_TIMES."""
    found: set[int] = set()
    start = 0
    for end in range(1, len(tokens) + 1):
        if end < len(tokens) and not pause_before[end] and tokens[end] not in CLAUSE_ENDS:
            continue
        clause = range(start, end)
        events = [i for i in clause if stem_seq[i] in PAST_EVENTS]
        if events:
            words = [stem_seq[i] for i in clause]
            dated = any(find_phrase(words, when) >= 0 for when in PAST_TIMES) or any(
                words[k] == "in" and (tokens[start + k + 1] in PAST_MONTHS or _is_year(tokens[start + k + 1]))
                for k in range(len(words) - 1))
            for i in events:
                if dated or any(stem_seq[j] in HISTORY_AFTER for j in range(max(start, i - HISTORY_WINDOW), i)):
                    found.add(i)
        start = end
    return found


def _is_year(token: str) -> bool:
    return len(token) == 4 and token.isdigit() and token[:2] in ("19", "20")


def _joined(tokens: Sequence[str]) -> list[str]:
    """'can not' is 'cannot': typed apart, the 'not' would read as a negation."""
    result: list[str] = []
    for token in tokens:
        if token == "not" and result and result[-1] == "can":
            result[-1] = "cannot"
        else:
            result.append(token)
    return result


@dataclass(frozen=True)
class _TopicIndex:
    topic: Topic
    discipline: str | None
    stems: frozenset[str]
    phrasings: tuple[frozenset[str], ...]
    phrasing_texts: tuple[str, ...]  # canonical word sequences: word order breaks ties
    anchors: frozenset[str]  # keyword stems: evidence that on its own points at this topic


class Understander:
    """Built once per content; `understand` is pure and fast (well under a millisecond)."""

    def __init__(self, content: Content, emergency_number: str = "911"):
        self.content = content
        self.emergency_number = emergency_number
        self._canon = Canonicalizer(content.synonyms)
        self._red_flags = _RedFlagMatcher(content)
        self._vocabulary = self._build_vocabulary()
        self._vocabulary_stems = frozenset(stem(w) for w in self._vocabulary)
        self._commands = {
            " ".join(self._strip_polite(basic_tokens(p))): cid
            for cid, command in content.commands.items() for p in command.phrasings
        }
        self._commands.pop("", None)
        self._command_keys = list(self._commands)
        self._command_phrases = [
            (phrase, cid) for key, cid in self._commands.items()
            if (phrase := tuple(t for t in key.split() if t not in COMMAND_NOISE))
        ]
        triage = content.triage
        self._not_therapy = [_Phrase.of(p) for p in triage.not_therapy]
        # One entry per stem sequence: "dress" and "dressed" are one signal, not two.
        self._signals = {
            key: sorted({_Phrase.of(self._canonical_text(p)) for p in phrases}, key=lambda p: p.stems)
            for key, phrases in (("pt_strong", triage.pt_strong), ("pt_weak", triage.pt_weak),
                                 ("ot_strong", triage.ot_strong), ("ot_weak", triage.ot_weak),
                                 ("difficulty", triage.difficulty_cues))
        }
        self._topics = [self._index_topic(t) for t in content.topics.values()]
        self._phrasing_texts = [text for index in self._topics for text in index.phrasing_texts]
        self._phrasing_rows: dict[str, range] = {}
        start = 0
        for index in self._topics:
            self._phrasing_rows[index.topic.id] = range(start, start + len(index.phrasing_texts))
            start += len(index.phrasing_texts)
        document_frequency: dict[str, int] = {}
        for index in self._topics:
            for s in index.stems:
                document_frequency[s] = document_frequency.get(s, 0) + 1
        n = len(self._topics)
        self._idf = {s: math.log(1 + n / df) for s, df in document_frequency.items()}
        # A word the content never uses is usually what the question is really about ("how much does
        # physio COST"): it weighs more than any content word, so such questions end up "unknown".
        self._unknown_word_weight = 1.5 * math.log(1 + n)

    # -- preparation ---------------------------------------------------------------------------------

    def _build_vocabulary(self) -> frozenset[str]:
        words: set[str] = set()
        for phrase in self.content.domain_phrases():
            words.update(basic_tokens(phrase))
        for topic in self.content.topics.values():
            words.update(basic_tokens(f"{topic.title} {topic.answer} {topic.more} {' '.join(topic.keywords)}"))
        words.update(basic_tokens(" ".join(self.content.synonyms)))
        return frozenset(w for w in words if len(w) > 1)

    def _canonical_text(self, text: str) -> str:
        return " ".join(self._canon.apply(basic_tokens(text)))

    def _content_stems(self, tokens: Sequence[str]) -> list[str]:
        """Stems that can say which topic is meant (who is asking never does)."""
        return [stem(t) for t in tokens if t not in FUNCTION_WORDS and t not in PERSON_WORDS and t != BREAK]

    def _index_topic(self, topic: Topic) -> _TopicIndex:
        phrasings = tuple(frozenset(self._content_stems(self._canon.apply(basic_tokens(p))))
                          for p in topic.phrasings)
        keyword_stems = self._content_stems(self._canon.apply(basic_tokens(" ".join(topic.keywords))))
        all_stems = frozenset().union(*phrasings, keyword_stems)
        prefix = topic.id.split(".")[0]
        discipline = prefix if prefix in DISCIPLINE_WORDS and topic.id != "ot.mental_health" else None
        texts = tuple(" ".join(self._canon.apply(basic_tokens(p))) for p in topic.phrasings)
        anchors = frozenset(keyword_stems) | frozenset(DISCIPLINE_WORDS)
        return _TopicIndex(topic, discipline, all_stems, phrasings, texts, anchors)

    @staticmethod
    def _strip_polite(tokens: Sequence[str]) -> list[str]:
        kept = [t for t in tokens if t not in POLITE and t != BREAK]
        return kept or [t for t in tokens if t != BREAK]

    # -- steps ---------------------------------------------------------------------------------------

    def _correct(self, tokens: list[str]) -> list[str]:
        """Mend small misrecognitions/typos of domain words ("ocupational" -> "occupational"), and bigger ones of
        the word that names a therapy ("aquaipational therapy")."""
        fixed = []
        for i, token in enumerate(tokens):
            if (len(token) >= 5 and token not in self._vocabulary and token not in FUNCTION_WORDS
                    and stem(token) not in self._vocabulary_stems):
                names_therapy = i + 1 < len(tokens) and stem(tokens[i + 1]).startswith("therap")
                choices, cutoff = ((THERAPY_NAME_CHOICES, THERAPY_NAME_CUTOFF) if names_therapy
                                   else (self._vocabulary, 84))
                match = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
                if match is not None and match[0] not in OTHER_THERAPY_NAMES:
                    token = match[0]
            fixed.append(token)
        return fixed

    def _command(self, tokens: list[str]) -> tuple[str, float] | None:
        stripped = self._strip_polite(tokens)
        if len(stripped) > 8:
            return None
        text = " ".join(stripped)
        exact = self._commands.get(text)
        if exact is not None:
            return exact, 1.0
        match = process.extractOne(text, self._command_keys, scorer=fuzz.ratio, score_cutoff=86)
        if match is not None and len(stripped) <= 5:
            return self._commands[match[0]], match[1] / 100
        return self._contained_command(stripped)

    def _contained_command(self, tokens: list[str]) -> tuple[str, float] | None:
        """Command phrases inside a short utterance ("sorry can you REPEAT THAT", "SPEAK UP I CAN'T HEAR
        you"), when they are most of what was said: "my pain won't STOP" is not a command."""
        meaningful = [t for t in tokens if t not in COMMAND_NOISE]
        if not meaningful:
            return None
        covered: dict[str, set[int]] = {}
        for phrase, command_id in self._command_phrases:
            start = 0
            while (pos := find_phrase(meaningful, phrase, start)) >= 0:
                covered.setdefault(command_id, set()).update(range(pos, pos + len(phrase)))
                start = pos + 1
        if not covered:
            return None
        command_id, positions = max(covered.items(), key=lambda item: len(item[1]))
        share = len(positions) / len(meaningful)
        return (command_id, 0.7 + 0.3 * share) if share >= 0.6 else None

    def _signal_hits(self, key: str, stem_seq: list[str]) -> list[_Phrase]:
        present = set(stem_seq)
        return [p for p in self._signals[key] if p.stems[0] in present and p.find(stem_seq) >= 0]

    def _triage(self, tokens: list[str]) -> tuple[str, float] | None:
        stem_seq = stems(tokens)
        pt_strong, pt_weak = self._signal_hits("pt_strong", stem_seq), self._signal_hits("pt_weak", stem_seq)
        ot_strong, ot_weak = self._signal_hits("ot_strong", stem_seq), self._signal_hits("ot_weak", stem_seq)
        pt = 2 * len(pt_strong) + len(pt_weak)
        ot = 2 * len(ot_strong) + len(ot_weak)
        if pt == 0 and ot == 0:
            return None
        if pt_strong and ot_strong:
            if pt >= 3 * ot:
                return "pt", 0.7
            if ot >= 3 * pt:
                return "ot", 0.7
            return "both", 0.8
        if pt_strong:
            return "pt", 0.85
        if ot_strong:
            return "ot", 0.85
        if pt > ot:
            return "pt", 0.6
        if ot > pt:
            return "ot", 0.6
        return "both", 0.5

    def _topic_scores(self, tokens: list[str]) -> list[tuple[float, _TopicIndex]]:
        content_stems = set(self._content_stems(tokens))
        if not content_stems:
            return []
        text = " ".join(t for t in tokens if t != BREAK)
        # Word-order similarity to every phrasing at once (one call into rapidfuzz's C code).
        similarity = process.cdist([text], self._phrasing_texts, scorer=fuzz.ratio)[0].tolist()
        weight = {s: self._idf.get(s, self._unknown_word_weight) for s in content_stems}
        total = sum(weight.values())
        mentions = {d for d in DISCIPLINE_WORDS if d in content_stems}
        scored = []
        for index in self._topics:
            coverage = sum(w for s, w in weight.items() if s in index.stems) / total
            best_phrasing = 0.0
            for phrasing in index.phrasings:
                shared = sum(w for s, w in weight.items() if s in phrasing)
                if shared == 0:
                    continue
                union = total + sum(self._idf.get(s, 0.0) for s in phrasing if s not in weight)
                best_phrasing = max(best_phrasing, shared / union)
            matched = content_stems & index.stems
            if not matched or (len(matched) < 2 and not matched & index.anchors):
                continue  # one incidental word ("what TIME is it") is no evidence for a topic
            sequence = max(similarity[i] for i in self._phrasing_rows[index.topic.id]) / 100
            score = 0.55 * coverage + 0.35 * best_phrasing + 0.1 * sequence
            if index.discipline and mentions:
                if index.discipline not in mentions:
                    score *= 0.35
                elif len(mentions) > 1:
                    score *= 0.8
            elif index.discipline:
                score *= 0.9
            scored.append((score, index))
        scored.sort(key=lambda pair: -pair[0])
        return scored

    # -- the decision --------------------------------------------------------------------------------

    def _decision(self, text: str, **fields) -> Decision:
        base = dict(input=text, transcript=None, topic=None, disposition=None, command=None, confidence=1.0,
                    confirm=False, runner_up=None)
        base.update(fields)
        return Decision(**base)

    def message(self, key: str, **values: str) -> str:
        values.setdefault("number", self.emergency_number)
        return self.content.messages[key].format_map(_Blank(values))

    @functools.cached_property
    def subjects(self) -> Subjects:
        """The content's names for what questions are about, for the end-of-question check."""
        names = {t for canonical in self.content.synonyms for t in basic_tokens(canonical)}
        return Subjects(self._canon, frozenset(names - FUNCTION_WORDS))

    def doubted(self, decision: Decision) -> Decision:
        """The decision on words the recognizer doubts (outside the domain, or not its first reading): a topic
        is asked back ("did you mean ...?"), a triage loses confidence; emergencies and commands never weaken."""
        if decision.kind == "topic" and decision.topic:
            title = self.content.topics[decision.topic].title
            return replace(decision, confirm=True, confidence=decision.confidence * DOUBT_FACTOR,
                           answer=self.message("did_you_mean", title=title))
        if decision.kind == "triage" and not decision.is_emergency:
            return replace(decision, confidence=decision.confidence * DOUBT_FACTOR)
        return decision

    def red_flag(self, text: str) -> str | None:
        """The id of the red flag `text` raises, or None (which one is not part of the Decision)."""
        return self._red_flags.match(text or "")

    def emergency_answer(self) -> str:
        return self.content.red_flags.answer.format(number=self.emergency_number)

    def emergency(self, text: str) -> Decision:
        """The emergency decision (also what a "yes" to "Is this an emergency?" gets)."""
        return self._decision(text, kind="triage", disposition="emergency", answer=self.emergency_answer())

    @staticmethod
    def _is_bare_help(tokens: Sequence[str]) -> bool:
        """'help', 'help me', 'Help!', 'please help me': maybe an emergency, maybe the help command: asked back."""
        words = [t for t in tokens if t != BREAK]
        return "help" in words and set(words) <= BARE_HELP_WORDS

    def understand(self, text: str) -> Decision:
        tokens = basic_tokens(text or "")
        if not [t for t in tokens if t not in FUNCTION_WORDS or t in ("yes", "no", "help", "stop", "more")]:
            if not self._command(tokens):
                return self._decision(text, kind="unknown", answer=self.message("not_heard"), confidence=0.0)

        if self._red_flags.match(text or "") is not None:
            return self.emergency(text)
        if self._is_bare_help(tokens):
            return self._decision(text, kind="command", command="help", confirm=True,
                                  answer=self.message("emergency_check"))

        command = self._command(tokens)
        if command is not None:
            command_id, confidence = command
            return self._decision(text, kind="command", command=command_id, confidence=confidence,
                                  answer=self._command_answer(command_id))

        # Look-alikes only matter for red flags: "help with" must still count for "what does pt help with".
        tokens = self._canon.apply(self._correct(tokens))
        if self._pain_for_a_doctor(tokens):
            return self._decision(text, kind="unknown", answer=self.message("see_doctor"))
        scored = self._topic_scores(tokens)
        triage = self._triage(tokens)
        if triage is not None and self._is_statement_of_difficulty(tokens, scored[0][0] if scored else 0.0):
            disposition, confidence = triage
            return self._decision(text, kind="triage", disposition=disposition, confidence=confidence,
                                  answer=self.content.triage.answers[disposition])
        scored = self._with_question_clause(tokens, scored)
        best_score, best = scored[0] if scored else (0.0, None)
        if best is None or best_score < TOPIC_MIN:
            return self._decision(text, kind="unknown", answer=self.message("unknown"),
                                  confidence=round(best_score, 3))
        runner_score, runner = scored[1] if len(scored) > 1 else (0.0, None)
        close = runner is not None and best_score - runner_score < CLEAR_MARGIN
        confirm = best_score < TOPIC_SURE or close
        if confirm and close and runner is not None:
            answer = self.message("did_you_mean_two", first=best.topic.title, second=runner.topic.title)
        elif confirm:
            answer = self.message("did_you_mean", title=best.topic.title)
        else:
            answer = best.topic.answer
        return self._decision(text, kind="topic", topic=best.topic.id, confidence=min(1.0, best_score),
                              confirm=confirm, runner_up=runner.topic.id if runner else None, answer=answer)

    def _with_question_clause(self, tokens: list[str], scored: list[tuple[float, _TopicIndex]]
                              ) -> list[tuple[float, _TopicIndex]]:
        """The whole utterance's topic scores, or those of the question that follows some context, whichever
        finds a better topic: the context dilutes the question's words. The therapy the context names carries
        over ("so my dad starts pt on monday, what will the therapist actually do with him"). Whether it is a
        statement of difficulty is decided on the whole ("my knee hurts, what should i do": triage)."""
        start = next((i for i in range(1, len(tokens) - 1) if tokens[i] in CLAUSE_QUESTION_WORDS), None)
        if start is None or tokens[start - 1] in ("and", "or"):
            return scored  # "goals or how long it takes": two questions, not context and a question
        clause = tokens[start:]
        named = [t for t in dict.fromkeys(tokens[:start]) if t in DISCIPLINE_WORDS and t not in clause]
        clause_scored = self._topic_scores(clause + named)
        if clause_scored and (not scored or clause_scored[0][0] > scored[0][0]):
            return clause_scored
        return scored

    def _pain_for_a_doctor(self, tokens: list[str]) -> bool:
        """'my stomach hurts': pain the article's therapies do not treat (triage.yaml's not_therapy)."""
        stem_seq = stems(tokens)
        return (bool(set(stem_seq) & PAIN_STEMS)
                and any(p.stems[0] in stem_seq and p.find(stem_seq) >= 0 for p in self._not_therapy))

    def _is_statement_of_difficulty(self, tokens: list[str], best_topic_score: float) -> bool:
        """'my knee hurts' is triage; 'what does pt help with' is a topic question."""
        stem_seq = stems(tokens)
        personal = any(t in PERSON_WORDS for t in tokens)
        difficulty = bool(self._signal_hits("difficulty", stem_seq))
        names_therapy = any(t in DISCIPLINE_WORDS or t == "therapy" for t in tokens)
        if personal and difficulty:
            return best_topic_score < 0.75
        if names_therapy:
            return False
        if personal or difficulty:
            return True
        return tokens[0] not in QUESTION_WORDS

    def _command_answer(self, command_id: str) -> str:
        """What `assistant ask` says for a command on its own (the dialog gives the full behaviour)."""
        replies = {"help": "help", "goodbye": "goodbye", "stop": "stopped", "slower": "rate_slower",
                   "faster": "rate_faster", "louder": "volume_louder", "softer": "volume_softer",
                   "repeat": "nothing_to_repeat", "more": "nothing_to_repeat", "yes": "ready", "no": "ready"}
        return self.message(replies[command_id])


class _Blank(dict):
    """format_map helper: a placeholder without a value is left out rather than raising."""

    def __missing__(self, key: str) -> str:
        return ""
