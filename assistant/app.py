"""The application object: what every front end shares, built once per process.

It loads the content once and holds the understanding, the recognizer, the person's own phrases, the
caregiver alert and the conversation log, and reloads content a clinician edits while it runs. It makes one
`Dialog` (the state of one conversation: last answer, pending question, speaking rate and volume) per person
or room on request. `assistant listen`, `assistant ask` and any other front end go through it; none of it
touches the microphone or the speaker.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.config import Settings, save_settings
from assistant.core.content import Content
from assistant.core.decision import Decision
from assistant.core.dialog import Dialog
from assistant.core.loader import load_content
from assistant.core.understanding import Understander
from assistant.core.wake import active_wake_phrase

if TYPE_CHECKING:  # engines and caregiver tools load only when a front end uses them
    import numpy as np

    from assistant.caregiver.alert import CaregiverAlert
    from assistant.caregiver.content_reload import ContentWatcher
    from assistant.caregiver.conversation_log import ConversationLog
    from assistant.phrases.personal import PersonalPhrases
    from assistant.recognition.base import Recognizer, Transcript

log = logging.getLogger(__name__)


class Application:
    def __init__(self, settings: Settings, content: Content) -> None:
        self.settings = settings
        self.understander = Understander(content, emergency_number=settings.emergency_number)
        self.wake_phrase = active_wake_phrase(settings.wake_phrase)
        self._dialogs: weakref.WeakSet[Dialog] = weakref.WeakSet()
        self._recognizers: dict[bool, Recognizer] = {}
        self._phrases: PersonalPhrases | None = None
        self._phrases_loaded = False
        self._watcher: ContentWatcher | None = None
        self._alert: CaregiverAlert | None = None
        self._history: ConversationLog | None = None

    @classmethod
    def open(cls, settings: Settings) -> Application:
        """Load the content the settings name; raises ContentError listing every problem in it."""
        return cls(settings, load_content(settings.content_path()))

    @property
    def content(self) -> Content:
        return self.understander.content

    # -- one conversation per person or room --------------------------------------------------------

    def new_dialog(self) -> Dialog:
        """A fresh conversation with the configured speaking rate and volume; content reloads reach it."""
        dialog = Dialog(self.understander, rate=self.settings.rate, volume=self.settings.volume,
                        wake_phrase=self.wake_phrase)
        self._dialogs.add(dialog)
        return dialog

    def reload_content(self, on_problem: Callable[[str], None]) -> bool:
        """Take up content edited since the last call (every conversation gets it); a broken edit is
        reported through `on_problem` and the last good content stays. True when new content was taken."""
        if self._watcher is None:
            from assistant.caregiver.content_reload import ContentWatcher

            self._watcher = ContentWatcher(self.settings.content_path(), self.content, on_problem=on_problem)
            return False
        new_content = self._watcher.changed_content()
        if new_content is None:
            return False
        self.understander = Understander(new_content, emergency_number=self.settings.emergency_number)
        for dialog in list(self._dialogs):
            dialog.use_understander(self.understander)
        return True

    def remember_speech(self, rate: int | None, volume: float | None) -> None:
        """Keep a rate or volume changed by voice for the next start (only the one that changed)."""
        changed = [name for name, value in (("rate", rate), ("volume", volume)) if value is not None]
        if rate is not None:
            self.settings.rate = rate
        if volume is not None:
            self.settings.volume = volume
        if not changed:
            return
        try:
            save_settings(self.settings, only=changed)
        except OSError as exc:  # the conversation goes on; the setting holds until the assistant stops
            log.warning("could not remember the speech setting: %s", exc)

    # -- shared parts, opened on first use ----------------------------------------------------------

    def recognizer(self, listen_for_wake: bool = False, announce: bool = False) -> Recognizer:
        """The speech recognizer, opened once. `listen_for_wake`: it also offers the reading that starts with
        the wake phrase (the hands-free loop); recordings and `listen --once` are heard as they are."""
        wake = listen_for_wake and self.wake_phrase is not None
        if wake not in self._recognizers:
            from assistant.recognition import open_recognizer

            self._recognizers[wake] = open_recognizer(self.settings, self.content, announce=announce,
                                                      wake_phrase=self.wake_phrase if wake else None)
        return self._recognizers[wake]

    def another_recognizer(self) -> Recognizer:
        """A second recognizer of the same kind (its own model), to decode beside the first on another core."""
        from assistant.recognition import open_recognizer

        return open_recognizer(self.settings, self.content)

    def personal_phrases(self) -> PersonalPhrases | None:
        """The person's own recordings of the words that matter, or None when none are enrolled."""
        if not self._phrases_loaded:
            from assistant.phrases.personal import PersonalPhrases

            self._phrases = PersonalPhrases.load(self.understander, wake_phrase=self.wake_phrase)
            self._phrases_loaded = True
        return self._phrases

    @property
    def alert(self) -> CaregiverAlert:
        if self._alert is None:
            from assistant.caregiver.alert import CaregiverAlert

            self._alert = CaregiverAlert(self.settings.alert_command, self.settings.alert_timeout)
        return self._alert

    @property
    def history(self) -> ConversationLog:
        if self._history is None:
            from assistant.caregiver.conversation_log import ConversationLog

            self._history = ConversationLog(enabled=self.settings.log_enabled)
        return self._history

    # -- deciding without a conversation (`assistant ask`) ------------------------------------------

    def decide_text(self, text: str) -> Decision:
        return self.understander.understand(text)

    def words_to_act_on(self, samples: np.ndarray, recognizer: Recognizer | None = None) -> tuple[str, Transcript]:
        """The words the assistant acts on for one utterance (int16 mono at the recognizer's rate), and the
        recognizer's transcript: an emergency in any reading, then a phrase listened for (core/listened.py),
        then the best reading (recognition.reading). For front ends that hear audio themselves (the network
        service's `asr`); `transcript.listened_for` says when a listened-for phrase decided."""
        from assistant.recognition.reading import asked_back, reading_to_act_on

        transcript = (recognizer or self.recognizer()).transcribe(samples)
        if asked_back(transcript, self.understander):  # a yes/no heard both ways: the free reading, asked back
            return transcript.text, transcript
        return reading_to_act_on(transcript, self.understander), transcript

    def decide_audio_files(self, paths: Iterable[Path]) -> Iterator[Decision]:
        """One decision per WAV file, in order; `input` is the path and `transcript` the words acted on. A file
        that cannot be used gives an "unknown" decision naming the problem, and the batch goes on."""
        from assistant.audio.wav_files import AudioFileError, load_wav
        from assistant.recognition.reading import decide

        recognizer = self.recognizer(announce=True)
        phrases = self.personal_phrases()
        for path in paths:
            try:
                samples = load_wav(path, rate=recognizer.sample_rate)
            except AudioFileError as exc:
                yield Decision.unusable(str(path), f"I could not use the recording {path.name}: {exc.problem}.",
                                        error=f"{path}: {exc.problem}")
                continue
            decision = decide(recognizer.transcribe(samples), self.understander, source=str(path))
            if phrases is not None:  # the person's own recordings decide where one matches
                audio = samples if recognizer.sample_rate == 16000 else load_wav(path, rate=16000)
                decision = phrases.decide(audio, decision)
            yield decision
