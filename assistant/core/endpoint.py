"""Whether the words heard so far are the whole question (pure): the transcript's say in when to answer.

The segmenter asks once a pause has settled (audio/segmenter.py, `end_check`). The listening loop decodes
the settled audio and gives the transcript and the understanding's decision on it here:
- True, answer now: an emergency; or a voice command, question or statement understood with confidence
  that does not trail off. No need to wait out the endpoint silence.
- False, wait for more (up to the caregiver's `max_pause`): the words trail off ("I have trouble with
  my ...", "what is"), only the wake phrase was said, or nothing in it was understood with confidence.
  People after a stroke or with MS pause mid-sentence; a fixed 1 s silence would cut them in two.
- None, cannot tell (nothing was heard in it): the endpoint silence decides, as without a check.
"""

from __future__ import annotations

from assistant.core.decision import Decision
from assistant.core.normalize import BREAK, basic_tokens

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
TRAILING_MARKS = ("...", "…", ",", "-", "—")  # Whisper writes these where the speaker trailed off


def question_complete(text: str, decision: Decision | None, trails_off: bool = False) -> bool | None:
    """text: what was heard; decision: the understanding of it, None when it was only the wake phrase;
    trails_off: the recognizer heard the voice break off (Transcript.trails_off)."""
    words = [w for w in basic_tokens(text) if w != BREAK]
    if not words:
        return None
    if decision is None:
        return False  # "hey coach ..." and a pause: the question is still to come
    if decision.is_emergency:
        return True  # never kept waiting, however it ends ("I have chest pain and")
    if trails_off or text.rstrip().endswith(TRAILING_MARKS) or words[-1] in OPEN_ENDINGS:
        return False  # before commands: "what is" reads as "what?" (repeat)
    # Not understood, or only doubtfully: wait for more too. A first half misheard mid-pause is most often
    # this (dev halting clips: 94% kept whole this way, 85% when the endpoint silence decided); the cost
    # is that a question that is misheard anyway gets its "did you mean" or "I don't know" later.
    return decision.kind != "unknown" and not decision.confirm
