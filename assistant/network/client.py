"""The satellite's side of Wyoming: one connection per request, as Home Assistant does it. `transcribe` sends
an utterance to the server's `asr`, `handle` sends the words to its `handle` in this room's conversation,
`describe` asks what it offers (`assistant doctor`). Blocking calls, for the device loop's thread."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncClient
from wyoming.event import Event
from wyoming.handle import Handled
from wyoming.info import Describe, Info

TIMEOUT = 20.0  # seconds for one answer: a busy server decodes several rooms in turn
CHUNK_SAMPLES = 1024  # 64 ms at 16 kHz, as Home Assistant's pipeline sends


class ServerError(RuntimeError):
    """The server could not be reached or refused the request; the message says which."""


@dataclass(frozen=True)
class RoomClient:
    """Requests to one server on behalf of one room."""

    uri: str  # tcp://HOST:PORT or unix://PATH
    room: str
    timeout: float = TIMEOUT

    @property
    def context(self) -> dict[str, Any]:
        # The room is the conversation: its own "tell me more", questionnaire and speaking rate on the server.
        return {"conversation_id": f"room:{self.room}", "satellite_id": self.room}

    def describe(self) -> Info:
        return Info.from_event(self._request([Describe().event()], "info"))

    def transcribe(self, samples: np.ndarray, rate: int = 16000) -> str:
        audio = np.asarray(samples, dtype="<i2").tobytes()
        step = CHUNK_SAMPLES * 2
        events = [Transcribe(language="en", context=self.context).event(),
                  AudioStart(rate=rate, width=2, channels=1).event(),
                  *(AudioChunk(rate=rate, width=2, channels=1, audio=audio[i:i + step]).event()
                    for i in range(0, len(audio), step)),
                  AudioStop().event()]
        return Transcript.from_event(self._request(events, "transcript")).text

    def handle(self, text: str) -> Handled:
        return Handled.from_event(self._request([Transcript(text=text, language="en", context=self.context).event()],
                                                "handled", "not-handled"))

    def _request(self, events: list[Event], *answers: str) -> Event:
        try:
            return asyncio.run(asyncio.wait_for(self._exchange(events, answers), self.timeout))
        except TimeoutError:
            raise ServerError(f"{self.uri} did not answer within {self.timeout:g} s") from None
        except OSError as exc:
            raise ServerError(f"cannot reach {self.uri}: {exc.strerror or exc}") from exc

    async def _exchange(self, events: list[Event], answers: tuple[str, ...]) -> Event:
        async with AsyncClient.from_uri(self.uri) as client:
            for event in events:
                await client.write_event(event)
            while True:
                event = await client.read_event()
                if event is None:
                    raise ServerError(f"{self.uri} closed the connection without an answer")
                if event.type == "error":
                    raise ServerError(f"{self.uri} refused the request: {event.data.get('text')}")
                if event.type in answers:
                    return event
