"""`assistant` / `assistant listen`: the hands-free conversation, or `--text` to type instead of speaking.

`--once` records a single utterance from the microphone and prints its decision as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from assistant.config import Settings
from assistant.content_watch import ContentWatcher
from assistant.conversation import Conversation, TurnRecord
from assistant.core.dialog import Dialog
from assistant.core.understanding import Understander
from assistant.runtime import load_content_or_exit

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "listen", parents=parents, help="hands-free conversation (the default)",
        description="Listen, answer aloud, listen again. Ctrl-C to stop.")
    parser.add_argument("--once", action="store_true", help="record one utterance, print its decision as JSON")
    parser.add_argument("--text", action="store_true", help="type questions instead of speaking them")
    parser.add_argument("--no-speak", action="store_true", help="print answers only")
    parser.add_argument("--service", action="store_true",
                        help="started by systemd: wait for late audio devices, say when ready")
    parser.set_defaults(func=run)


class _Status:
    """Live status for the caregiver's terminal (stderr, so stdout stays clean for scripts)."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.last = ""

    def __call__(self, message: str) -> None:
        if message == self.last:  # "listening" after "listening" tells the caregiver nothing
            return
        self.last = message
        from rich.markup import escape  # what people say may contain [brackets]: never markup

        self.console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {escape(message)}", markup=True,
                           soft_wrap=True)


class _Silent:
    """Stands in for the speaker with --no-speak: answers are printed only."""

    is_speaking = False

    def speak(self, text: str, block: bool = True) -> bool:
        return True

    def stop(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> bool:
        return True


def build_conversation(settings: Settings, speak: bool, status, service: bool = False
                       ) -> tuple[Conversation, object]:
    content = load_content_or_exit(settings)
    understander = Understander(content, emergency_number=settings.emergency_number)
    dialog = Dialog(understander, rate=settings.rate, volume=settings.volume, wake_phrase=settings.wake_phrase)
    if speak:
        from assistant.speech.speaker import Speaker

        speaker = Speaker(settings)
    else:
        speaker = _Silent()

    from assistant.alert import CaregiverAlert
    from assistant.history import ConversationLog

    alert = CaregiverAlert(settings.alert_command, settings.alert_timeout)
    history = ConversationLog(enabled=settings.log_enabled)

    def on_turn(turn: TurnRecord) -> None:
        print(turn.reply.text, flush=True)
        history.record(turn.reply, turn.transcript)

    def on_speech_change(rate: int | None, volume: float | None) -> None:
        from assistant.config import save_settings

        settings.rate = rate if rate is not None else settings.rate
        settings.volume = volume if volume is not None else settings.volume
        try:
            save_settings(settings, only=["rate", "volume"])
        except OSError as exc:
            log.warning("could not remember the speech setting: %s", exc)

    watcher = ContentWatcher(settings.content_path(), content, on_problem=status)

    def reload_content() -> None:
        new_content = watcher.changed_content()
        if new_content is not None:
            dialog.use_understander(Understander(new_content, emergency_number=settings.emergency_number))
            status("content reloaded")

    conversation = Conversation(
        dialog, speaker, status=status, on_turn=on_turn, on_alert=alert.fire,
        on_speech_change=on_speech_change, wake_phrase=settings.wake_phrase,
        follow_up_seconds=settings.follow_up_seconds, end_on_goodbye=not service, refresh=reload_content)
    return conversation, alert


def run(args: argparse.Namespace, settings: Settings) -> int:
    status = _Status()
    if args.once:
        from assistant.listening import listen_once

        decision = listen_once(settings)
        print(json.dumps(decision.to_contract(), ensure_ascii=False), flush=True)
        return 0 if decision.error is None else 1
    conversation, alert = build_conversation(settings, speak=not args.no_speak, status=status,
                                             service=args.service)
    try:
        if args.text:
            return _typed(conversation, status)
        from assistant.listening import run_hands_free

        return run_hands_free(conversation, settings, status, service=args.service)
    except KeyboardInterrupt:
        status("stopped (Ctrl-C)")
        return 0
    finally:
        conversation.speaker.stop()
        alert.wait(2.0)


def _typed(conversation: Conversation, status) -> int:
    """Typed questions, one a line; the fallback when there is no microphone."""
    conversation.wake.tokens = ()  # typing is already deliberate: no wake phrase
    conversation.dialog.wake_phrase = None
    conversation.awake_until = float("inf")
    conversation.greet()
    interactive = sys.stdin.isatty()
    while not conversation.finished.is_set():
        if interactive:
            print("> ", end="", file=sys.stderr, flush=True)
        # Bytes that are not UTF-8 become U+FFFD: a strict locale would otherwise crash the conversation.
        line = sys.stdin.buffer.readline().decode("utf-8", "replace")
        if not line:
            break
        conversation.hear(line, typed=True)
        if not interactive:
            conversation.speaker.wait(120)  # scripted input: let each answer finish, like a person would
    conversation.speaker.wait(120)
    return 0
