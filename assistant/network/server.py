"""The Wyoming server: one handler per connection over the one Application (content, recognizer, personal
phrases, alert, history) and one dialog per room.

`asr`: transcribe / audio-start / audio-chunk... / audio-stop -> transcript (the reading the assistant acts on).
`handle`: transcript{text, context} -> handled{text, continue_conversation} in that room's conversation.
`tts`: synthesize{text} -> audio-start / audio-chunk... / audio-stop in the assistant's own voice.
A fault in what a client sends is an `error` event and one log line; other connections never notice. Audio
stays in memory for its request only: nothing is written to disk.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import queue
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

import numpy as np
from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, async_get_stdin
from wyoming.handle import Handled
from wyoming.ping import Pong
from wyoming.server import AsyncEventHandler, AsyncServer

from assistant.app import Application
from assistant.network.audio_in import AudioFormatError, AudioRequest, PcmFormat
from assistant.network.programs import describe
from assistant.network.rooms import IDLE_SECONDS, Rooms, Where
from assistant.network.wire import ClientGone, Limits, ProtocolError, read_event
from assistant.recognition.base import Recognizer

log = logging.getLogger(__name__)

DEFAULT_URI = "tcp://127.0.0.1:10700"
DECODERS = max(1, min(2, os.cpu_count() or 1))  # recognizers decoding at once
MAX_CONNECTIONS = 16  # at once; Home Assistant opens one per request, a satellite one at a time
TTS_CHUNK_SAMPLES = 2048
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ServeOptions:
    uri: str = DEFAULT_URI
    allow: tuple[Network, ...] = ()  # empty: every client that can reach the address
    max_connections: int = MAX_CONNECTIONS
    limits: Limits = field(default_factory=Limits)
    idle_seconds: float = IDLE_SECONDS
    room_names: dict[str, str] = field(default_factory=dict)  # satellite or device id -> the room's name
    zeroconf: str | None = None  # the name to announce (mDNS _wyoming._tcp), "" for the default; None: off


@dataclass(frozen=True)
class Listening:
    """Where the server listens, for the start-up line."""

    uri: str
    host: str | None
    port: int | None
    loopback: bool


class Service:
    """What every connection shares: the application, the rooms, one thread for decoding (the recognizer is
    one model) and one for speech synthesis, so the event loop keeps answering while they work."""

    def __init__(self, app: Application, options: ServeOptions) -> None:
        self.app = app
        self.options = options
        self.rooms = Rooms(app.new_dialog, options.idle_seconds)
        # one recognizer per decoding thread (a recognizer is not thread-safe): rooms asking at once are decoded
        # side by side on the machine's cores
        self.recognition = ThreadPoolExecutor(max_workers=DECODERS, thread_name_prefix="network-recognition")
        self._idle_recognizers: queue.SimpleQueue[Recognizer] = queue.SimpleQueue()
        self.synthesis = ThreadPoolExecutor(max_workers=1, thread_name_prefix="network-speech")
        self.connections = 0
        self._speaker: Any = None
        self._info: Event | None = None

    def open(self) -> None:
        """Load the recognizer and the personal phrases now: the first request must not wait for them."""
        self._idle_recognizers.put(self.app.recognizer(announce=True))
        for _ in range(DECODERS - 1):
            self._idle_recognizers.put(self.app.another_recognizer())
        self.app.personal_phrases()
        self.app.reload_content(on_problem=log.warning)  # the first call only starts watching the files

    def close(self) -> None:
        self.recognition.shutdown(wait=False, cancel_futures=True)
        self.synthesis.shutdown(wait=False, cancel_futures=True)

    @property
    def info(self) -> Event:
        if self._info is None:
            self._info = describe(self.app.recognizer().description, self.app.settings.voice).event()
        return self._info

    def refusal(self, peer: str) -> str | None:
        """Why a new connection from `peer` is refused, or None."""
        if self.options.allow and not _allowed(peer, self.options.allow):
            return f"{peer} is not in the allowed networks (--allow)"
        if self.connections > self.options.max_connections:
            return f"too many connections at once (more than {self.options.max_connections})"
        return None

    # -- the three programs (asr and tts run on their worker threads) --------------------------------------

    def transcribe(self, request: AudioRequest) -> str:
        """The words the assistant would act on: an emergency in any reading first; the person's own phrase
        where one matches confidently, as on the device."""
        recognizer = self._idle_recognizers.get()
        try:
            samples = request.samples(rate=recognizer.sample_rate)
            text, _ = self.app.words_to_act_on(samples, recognizer)  # as `ask --audio` and the device choose
        finally:
            self._idle_recognizers.put(recognizer)
        phrases = self.app.personal_phrases() if recognizer.sample_rate == 16000 else None
        if phrases is not None and len(samples):
            heard = phrases.hear(samples, text)
            if heard.phrase is not None and not heard.ask_back:
                text = heard.text
        return text

    def handle(self, text: str, where: Where, conversation_id: str | None) -> Handled:
        self.app.reload_content(on_problem=log.warning)
        dialog = self.rooms.dialog(where.key)
        reply = dialog.handle(text)
        if reply.alert:
            self.app.alert.fire(text, room=where.room)
        if reply.rate is not None or reply.volume is not None:
            self.app.remember_speech(reply.rate, reply.volume)
        self.app.history.record(reply, text, room=where.room)
        context: dict[str, Any] = {"rate": dialog.rate, "volume": dialog.volume}  # the room's speech settings
        if conversation_id is not None:
            context["conversation_id"] = conversation_id
        return Handled(text=reply.text, context=context, continue_conversation=dialog.asked_something)

    def synthesize(self, text: str) -> np.ndarray:
        if self._speaker is None:
            from assistant.speech.speaker import Speaker

            self._speaker = Speaker(self.app.settings, warm_up=False)  # renders only: no sound device opened
        return self._speaker.render(text)


class Connection(AsyncEventHandler):
    """One client connection: its requests, in order, with their faults answered as `error` events."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, service: Service, peer: str,
                 limits: Limits) -> None:
        super().__init__(reader, writer)
        self.service = service
        self.peer = peer
        self.limits = limits
        self.audio: AudioRequest | None = None
        self.refused_audio = False  # this request's audio was refused: its remaining chunks are dropped quietly

    async def run(self) -> None:
        self.service.connections += 1
        try:
            refusal = self.service.refusal(self.peer)
            if refusal is not None:
                await self._fault(refusal, "refused")
                return
            while True:
                try:
                    event = await read_event(self.reader, self.limits)
                except ProtocolError as exc:
                    await self._fault(exc.text, exc.code)
                    if exc.in_step:
                        continue
                    break
                if event is None or not await self.handle_event(event):
                    break
        except ClientGone as exc:
            log.warning("client %s: %s%s", self.peer, exc, " (its audio was dropped)" if self.audio else "")
        except OSError as exc:  # reset, broken pipe: the client has gone while we answered
            log.warning("client %s: connection lost: %s", self.peer, exc)
        finally:
            self.service.connections -= 1
            self.audio = None
            self.writer.close()

    async def _fault(self, text: str, code: str) -> None:
        log.warning("client %s: %s", self.peer, text)
        await self.write_event(Error(text=text, code=code).event())

    async def handle_event(self, event: Event) -> bool:
        kind = event.type
        if kind == "describe":
            await self.write_event(self.service.info)
        elif kind == "ping":
            await self.write_event(Pong(text=event.data.get("text")).event())
        elif kind == "transcribe":
            self.audio, self.refused_audio = None, False  # a new request
        elif kind in ("audio-start", "audio-chunk", "audio-stop"):
            await self._audio(event)
        elif kind == "transcript":
            await self._handle(event.data)
        elif kind == "synthesize":
            await self._synthesize(event.data)
        else:  # Wyoming peers drop events they do not know (newer clients send extra ones)
            log.debug("client %s: ignored a %r event", self.peer, kind)
        return True

    async def _audio(self, event: Event) -> None:
        try:
            if event.type == "audio-start":
                self.audio, self.refused_audio = AudioRequest(PcmFormat.from_data(event.data)), False
                return
            if self.audio is None:
                if self.refused_audio:
                    self.refused_audio = event.type != "audio-stop"
                    return
                await self._fault(f"{event.type} before audio-start", "no-audio-start")
                return
            if event.type == "audio-chunk":
                self.audio.add(event.payload or b"", PcmFormat.from_data(event.data))
                return
        except AudioFormatError as exc:
            self.audio, self.refused_audio = None, event.type != "audio-stop"
            await self._fault(str(exc), "bad-audio")
            return
        request, self.audio = self.audio, None
        loop = asyncio.get_running_loop()
        text = await loop.run_in_executor(self.service.recognition, self.service.transcribe, request)
        log.info("client %s: %.1f s of audio heard as %r", self.peer, request.seconds, text)
        await self.write_event(Transcript(text=text, language="en").event())

    async def _handle(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if not isinstance(text, str):
            await self._fault("a transcript event needs its text", "bad-transcript")
            return
        context = data.get("context")
        where = Where.from_context(context, self.peer, self.service.options.room_names)
        conversation = context.get("conversation_id") if isinstance(context, dict) else None
        handled = self.service.handle(text, where, conversation if isinstance(conversation, str) else None)
        await self.write_event(handled.event())

    async def _synthesize(self, data: dict[str, Any]) -> None:
        text = data.get("text")
        if not isinstance(text, str):
            await self._fault("a synthesize event needs its text", "bad-synthesize")
            return
        loop = asyncio.get_running_loop()
        try:
            audio = await loop.run_in_executor(self.service.synthesis, self.service.synthesize, text)
        except Exception as exc:  # noqa: BLE001 - a speech problem answers this request only
            await self._fault(f"could not synthesize the text: {exc}", "tts-failed")
            return
        from assistant.speech.synth import SAMPLE_RATE

        start = AudioStart(rate=SAMPLE_RATE, width=2, channels=1)
        await self.write_event(start.event())
        for first in range(0, len(audio), TTS_CHUNK_SAMPLES):
            chunk = audio[first:first + TTS_CHUNK_SAMPLES].astype("<i2").tobytes()
            await self.write_event(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=chunk).event())
        await self.write_event(AudioStop().event())


# -- running it ------------------------------------------------------------------------------------------

async def serve(app: Application, options: ServeOptions, on_ready: Callable[[Listening], None]) -> None:
    """Serve until SIGTERM / SIGINT (or the end of stdin for stdio://)."""
    service = Service(app, options)
    service.open()
    try:
        if options.uri.startswith("stdio://"):
            await _serve_stdio(service, on_ready)
        else:
            await _serve_socket(service, on_ready)
    finally:
        service.close()


async def _serve_socket(service: Service, on_ready: Callable[[Listening], None]) -> None:
    options = service.options
    server = AsyncServer.from_uri(options.uri)
    parsed = urlparse(options.uri)

    def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> Connection:
        peer = writer.get_extra_info("peername")
        address = peer[0] if isinstance(peer, tuple) else "local socket"
        return Connection(reader, writer, service, address, options.limits)

    await server.start(connection)
    sockets = getattr(getattr(server, "_server", None), "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets and parsed.scheme == "tcp" else None
    host = parsed.hostname
    uri = f"tcp://{host}:{port}" if port is not None else options.uri
    on_ready(Listening(uri=uri, host=host, port=port, loopback=_is_loopback(host, parsed.scheme)))
    announcer = await _announce(options, host, port) if options.zeroconf is not None and port else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        if announcer is not None:
            await announcer._aiozc.async_close()
        await server.stop()


async def _serve_stdio(service: Service, on_ready: Callable[[Listening], None]) -> None:
    """One connection on stdin/stdout, without a read timeout (the parent process is the client)."""
    loop = asyncio.get_running_loop()
    reader = await async_get_stdin()
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, sys.stdout)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    on_ready(Listening(uri="stdio://", host=None, port=None, loopback=True))
    await Connection(reader, writer, service, "stdio", replace(service.options.limits, read_timeout=None)).run()


async def _announce(options: ServeOptions, host: str | None, port: int):
    """Announce the server as _wyoming._tcp so Home Assistant offers to add it by itself."""
    try:
        from wyoming.zeroconf import HomeAssistantZeroconf

        announcer = HomeAssistantZeroconf(port=port, name=options.zeroconf or None,
                                          host=None if host in (None, "", "0.0.0.0", "::") else host)
        await announcer.register_server()
    except (OSError, RuntimeError) as exc:  # no network yet: the server works, found by host and port
        log.warning("zeroconf announcement failed (add the server by host and port instead): %s", exc)
        return None
    log.warning("announced on the network as %s (_wyoming._tcp)", announcer.name)
    return announcer


def _allowed(peer: str, networks: tuple[Network, ...]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer == "local socket"  # a unix socket: the file's permissions decide
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _is_loopback(host: str | None, scheme: str) -> bool:
    if scheme != "tcp":
        return True
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to may be reachable from the network
