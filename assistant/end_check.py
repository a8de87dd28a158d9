"""The listening loop's end check: decode the settled audio and let the transcript say if it is whole.

This is speculation extended (speculation.py): the decode the loop starts once a pause has settled also
answers the segmenter's question "is the question complete?" (core/endpoint.py decides from the words).
A complete, confidently understood question is answered without waiting out the endpoint silence; one
that trails off waits up to `max_pause`. The decode runs on the recognizer's own thread, so the
microphone keeps being read meanwhile; until it is done the segmenter hears NOT_YET.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from assistant.audio.segmenter import NOT_YET
from assistant.recognition.base import Transcript
from assistant.speculation import SpeculativeRecognizer


class TranscriptEndCheck:
    def __init__(self, recognizer: SpeculativeRecognizer,
                 judge: Callable[[str, bool, Sequence[str]], bool | None],
                 reading: Callable[[Transcript], str] | None = None) -> None:
        self.recognizer = recognizer
        self.judge = judge  # (words, trails off, other readings) -> complete?  (Conversation.question_complete)
        self.reading = reading or (lambda transcript: transcript.text)  # the words acted on (hearing.reading_to_act_on)

    def __call__(self, audio: np.ndarray):
        self.recognizer.speculate(audio)  # once per array: asked again each frame until the verdict is in
        done, transcript = self.recognizer.guess(audio)
        if not done:
            return NOT_YET
        if transcript is None:
            return None
        words = self.reading(transcript)
        others = [text for text in (transcript.text, *transcript.alternatives) if text != words]
        return self.judge(words, transcript.trails_off, others)
