"""`assistant` / `assistant listen`: the hands-free conversation, or `--text` to type instead of speaking.

`--once` records a single utterance from the microphone and prints its decision as JSON.
"""

from __future__ import annotations

import argparse
import json
import time

from assistant.commands.startup import open_application
from assistant.config import Settings
from assistant.loop.turn_taking import SilentSpeaker, device_conversation
from assistant.loop.typed import converse_typed


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "listen", parents=parents, help="hands-free conversation (the default)",
        description="Listen, answer aloud, listen again. Ctrl-C to stop.")
    parser.add_argument("--once", action="store_true", help="record one utterance, print its decision as JSON")
    parser.add_argument("--text", action="store_true", help="type questions instead of speaking them")
    parser.add_argument("--no-speak", action="store_true", help="print answers only")
    parser.add_argument("--service", action="store_true",
                        help="started by systemd: wait for late audio devices, say when ready")
    parser.add_argument("--server", metavar="URI",
                        help="be a room satellite of `assistant serve` at tcp://HOST:10700: microphone, wake "
                             "phrase and speaker here, recognition and the conversation on the server")
    parser.add_argument("--room", help="this satellite's room (its own conversation; named in alerts and the "
                                       "history), e.g. bathroom; default: this machine's name")
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


def run(args: argparse.Namespace, settings: Settings) -> int:
    status = _Status()
    app = open_application(settings)
    if args.once:
        from assistant.loop.hands_free import listen_once

        decision = listen_once(app)
        print(json.dumps(decision.to_contract(), ensure_ascii=False), flush=True)
        return 0 if decision.error is None else 1
    if args.no_speak:
        speaker = SilentSpeaker()
    else:
        from assistant.speech.speaker import Speaker

        speaker = Speaker(settings)
    if args.server:
        return _satellite(args, app, speaker, status)
    turns = device_conversation(app, speaker, status, on_answer=lambda text: print(text, flush=True),
                                service=args.service)
    try:
        if args.text:
            return converse_typed(turns)
        from assistant.loop.hands_free import run_hands_free

        return run_hands_free(app, turns, status, service=args.service)
    except KeyboardInterrupt:
        status("stopped (Ctrl-C)")
        return 0
    finally:
        speaker.stop()
        app.alert.wait(2.0)


def _satellite(args: argparse.Namespace, app, speaker, status: _Status) -> int:
    import socket

    from assistant.loop.satellite import run_satellite, satellite_conversation
    from assistant.network.client import RoomClient

    server = RoomClient(args.server, room=args.room or socket.gethostname())
    turns = satellite_conversation(app, server, speaker, status, on_answer=lambda text: print(text, flush=True),
                                   service=args.service)
    try:
        if args.text:
            return converse_typed(turns)
        return run_satellite(app, turns, server, status, service=args.service)
    except KeyboardInterrupt:
        status("stopped (Ctrl-C)")
        return 0
    finally:
        speaker.stop()
