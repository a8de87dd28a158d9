"""`assistant serve`: the assistant as a Wyoming service for Home Assistant and the assistant's own room
satellites (argument parsing and the start-up line; the server is assistant/network/)."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import sys

from assistant.commands.startup import open_application
from assistant.config import Settings
from assistant.network.rooms import IDLE_SECONDS
from assistant.network.server import DEFAULT_URI, MAX_CONNECTIONS, Listening, ServeOptions, serve
from assistant.network.wire import Limits


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve", parents=parents,
        help="answer every room: a Wyoming service for Home Assistant and room satellites",
        description="Serve speech to text (asr), the conversation (handle) and text to speech (tts) over the "
                    "Wyoming protocol, one conversation per room. Only this machine can connect unless "
                    "--uri says otherwise. The protocol has no password: use it on a trusted home network, "
                    "and --allow to accept only the addresses of your satellites and Home Assistant.")
    parser.add_argument("--uri", default=DEFAULT_URI,
                        help=f"where to listen: tcp://HOST:PORT, unix://PATH or stdio:// (default {DEFAULT_URI}; "
                             "tcp://0.0.0.0:10700 for the home network)")
    parser.add_argument("--allow", nargs="+", action="extend", metavar="CIDR", default=[], type=_network,
                        help="accept only clients in these networks, e.g. 192.168.1.0/24 or 192.168.1.20/32")
    parser.add_argument("--max-connections", type=int, default=MAX_CONNECTIONS, metavar="N",
                        help=f"connections at once (default {MAX_CONNECTIONS})")
    parser.add_argument("--read-timeout", type=float, default=Limits().read_timeout, metavar="SECONDS",
                        help="drop a client that sends nothing for this long (default %(default)g)")
    parser.add_argument("--idle-minutes", type=float, default=IDLE_SECONDS / 60, metavar="MINUTES",
                        help="a room's conversation starts afresh after this long without a word (default "
                             "%(default)g, as Home Assistant)")
    parser.add_argument("--room-name", nargs="+", action="extend", metavar="ID=NAME", default=[], type=_room_name,
                        help="the room a satellite or device id is in, for alerts and the history "
                             "(e.g. assist_satellite.voice_pe_1=bathroom)")
    parser.add_argument("--zeroconf", nargs="?", const="", metavar="NAME",
                        help="announce the server on the network so Home Assistant finds it (optional name)")
    parser.set_defaults(func=run)


def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an address or network: {text!r} (e.g. 192.168.1.0/24)") from None


def _room_name(text: str) -> tuple[str, str]:
    key, sep, name = text.partition("=")
    if not sep or not key.strip() or not name.strip():
        raise argparse.ArgumentTypeError(f"expected ID=NAME, got {text!r}")
    return key.strip(), name.strip()


def _ready(listening: Listening) -> None:
    """The start-up line on stderr (stdout carries the protocol with stdio://)."""
    if listening.uri == "stdio://":
        line = "assistant serve: answering Wyoming events on stdin/stdout."
    elif listening.loopback:
        line = (f"assistant serve: listening on {listening.uri}: only programs on this machine can connect "
                "(--uri tcp://0.0.0.0:10700 opens it to the home network).")
    else:
        line = (f"assistant serve: listening on {listening.uri}: OPEN TO THE NETWORK. Any device that can reach "
                "this machine can connect; the Wyoming protocol has no password (use --allow CIDR to limit it).")
    print(line, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.max_connections < 1 or (args.read_timeout is not None and args.read_timeout <= 0):
        print("assistant serve: --max-connections and --read-timeout must be above 0", file=sys.stderr)
        return 2
    if not args.uri.startswith(("tcp://", "unix://", "stdio://")):
        print(f"assistant serve: --uri {args.uri!r}: use tcp://HOST:PORT, unix://PATH or stdio://", file=sys.stderr)
        return 2
    if not getattr(args, "verbose", False):  # one line per fault and per request is what a caregiver reads
        logging.getLogger("assistant.network").setLevel(logging.INFO)
    options = ServeOptions(uri=args.uri, allow=tuple(args.allow), max_connections=args.max_connections,
                           limits=Limits(read_timeout=args.read_timeout), idle_seconds=args.idle_minutes * 60,
                           room_names=dict(args.room_name), zeroconf=args.zeroconf)
    app = open_application(settings)
    try:
        asyncio.run(serve(app, options, on_ready=_ready))
    except OSError as exc:  # the address is in use or cannot be bound
        print(f"assistant serve: cannot listen on {args.uri}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        app.alert.wait(2.0)
    print("assistant serve: stopped.", file=sys.stderr)
    return 0
