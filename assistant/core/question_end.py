"""Whether the words heard so far are the whole question (pure): the transcript's say in when to answer.

The segmenter asks once a pause has settled (audio/segmenter.py, `end_check`). The listening loop decodes
the settled audio and gives the transcript and the understanding's decision on it here:
- True, answer now: an emergency; or a voice command, question or statement understood with confidence
  that does not trail off. No need to wait out the endpoint silence.
- False, wait for more (up to the caregiver's `max_pause`): the words trail off ("I have trouble with
  my ...", "what is"), a question stops after its subject ("can physical therapy ...", "is it normal that
  my arm ..."), only the wake phrase was said, or nothing in it was understood with confidence.
  People after a stroke or with MS pause mid-sentence; a fixed 1 s silence would cut them in two.
- None, cannot tell (nothing was heard in it): the endpoint silence decides, as without a check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.core.decision import Decision
from assistant.core.normalize import BREAK, Canonicalizer, basic_tokens

# Words an English sentence does not end on: articles, possessives, prepositions, conjunctions, auxiliaries,
# question words, subject pronouns and intensifiers. Not "do" or "have": as main verbs they end questions
# ("what does a therapist do", "what choices do I have"). General grammar, not our sentences. (Fillers such as
# "um" are already gone: basic_tokens drops them, so "my ... um" ends on "my".)
OPEN_ENDINGS = frozenset("""
    a an the my your his her their our its this these those some any every no
    of to for in on at with about from by into onto over under after before between through than like
    and or but so because if when while where whether that which who whom whose what how why
    is are am was were be been being can could will would should shall may might must
    i we you they he she
    very really quite
""".split())
# A question with the verb put before its subject ("can physical therapy help", "what does an OT do") has its
# main verb after the subject: one that stops right after the subject is not finished. General grammar again;
# "is"/"are" only open such a question without a question word ("what is physical therapy" is whole).
QUESTION_WORDS = frozenset("what how why where when which who whose".split())
AUXILIARIES = frozenset("do does did can could will would should may might must has have had".split())
COPULAS = frozenset("is are was were am".split())
DETERMINERS = frozenset("a an the my your his her their our this that these those some any".split())
# Words that open a clause: one that ends on its subject ("... that my arm") still lacks its verb.
CLAUSE_OPENERS = frozenset("that if when because while whether".split())
TRAILING_MARKS = ("...", "…", ",", "-", "—")  # Whisper writes these where the speaker trailed off


@dataclass(frozen=True)
class Subjects:
    """What the content calls the things questions are about ("pt", "ot", "therapy" once its synonyms are
    applied: "physical therapists" is "pt"), to tell a question that stops after its subject."""

    canonical: Canonicalizer
    names: frozenset[str]


def question_complete(text: str, decision: Decision | None, trails_off: bool = False,
                      subjects: Subjects | None = None, alternatives: Sequence[str] = ()) -> bool | None:
    """text: what was heard; decision: the understanding of it, None when it was only the wake phrase;
    trails_off: the recognizer heard the voice break off (Transcript.trails_off); subjects: the content's
    names (Understander.subjects), without which only the last word tells."""
    words = [w for w in basic_tokens(text) if w != BREAK]
    if not words:
        return None
    if decision is None:
        return False  # "hey coach ..." and a pause: the question is still to come
    if decision.is_emergency:
        return True  # never kept waiting, however it ends ("I have chest pain and")
    if trails_off or text.rstrip().endswith(TRAILING_MARKS) or _open(words, subjects):
        return False  # before commands: "what is" reads as "what?" (repeat)
    if any(_open(basic_tokens(other), subjects) for other in alternatives):
        return False  # another plausible reading of the same audio is unfinished: waiting costs less
    # Not understood, or only doubtfully: wait for more too. A first half misheard mid-pause is most often
    # this; the cost is that a question misheard anyway gets its "did you mean" or "I don't know" later.
    return decision.kind != "unknown" and not decision.confirm


def _open(words: list[str], subjects: Subjects | None) -> bool:
    """The words stop where a sentence cannot: on an open word, or right after a question's subject."""
    words = [w for w in words if w != BREAK]
    if not words:
        return False
    if words[-1] in OPEN_ENDINGS:
        return True
    return subjects is not None and _stops_after_subject(subjects.canonical.apply(words), subjects.names)


def _stops_after_subject(words: list[str], names: frozenset[str]) -> bool:
    """"can pt", "how long does pt", "what does an ot", "the ot", "is it normal that my arm": the verb is still
    to come."""
    if len(words) >= 3 and words[-3] in CLAUSE_OPENERS and words[-2] in DETERMINERS:
        return True
    start = 0
    if words[0] in QUESTION_WORDS:  # "how long does", "what else can": the auxiliary comes within three words
        start = next((i for i in range(1, min(4, len(words))) if words[i] in AUXILIARIES), -1)
        if start < 0:
            return False
    elif words[0] in DETERMINERS:
        start = -1  # "the occupational therapy": a subject alone, its question still to come
    elif words[0] not in AUXILIARIES | COPULAS:
        return False
    subject = words[start + 1:]
    heads = names | {"it"}
    if not subject or subject[-1] not in heads:
        return False
    # only names joined by "and"/"or", each with its determiners: "pt and ot"; "ot license" ("are OTs
    # licensed", a synonym for the verb) is a name and its predicate
    after_name = False
    for word in subject:
        if word in heads and not after_name:
            after_name = True
        elif word in ("and", "or") and after_name:
            after_name = False
        elif not (word in DETERMINERS and not after_name):
            return False
    return True
