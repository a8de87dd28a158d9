"""Personal-phrases benchmark: do the person's own recordings decide the words that matter, and only them?

    .venv/bin/python -m bench.phrases        (or `make bench`, which runs every benchmark): held out
    .venv/bin/python -m bench.phrases dev    the tuning people, the only ones constants may be set on

Held out from tuning: the matcher's constants were set on simulated people with seeds 1 and 2. The dev
split is those two people (the second now with its own base voice) and a list of other utterances
written for it; the held-out split has two other simulated people (tests/impaired_voice.Person seeds 11
and 12, one with a different base voice) and its own list. Each person enrolls all 13 phrases with 3
takes, then says each phrase in new takes (new rate, pitch, muffling, tremor and noise), and 100 other
utterances are heard (the same people saying other things, some of them close in sound, and other voices).

Figures and their targets:
- decided right from new takes, with enrollment (recognizer + phrases) >= 90 %, and the same clips
  through the recognizer alone; plus the matcher alone (right / wrong / no match)
- false matches on the 100 other utterances <= 1 %, false emergencies 0
- cost of matching per utterance with 12 phrases enrolled <= 20 ms (median and 95th percentile)
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the simulated voices live beside the tests

SAYINGS = {"stop": "stop", "yes": "yes", "no": "no", "repeat": "repeat", "more": "more", "slower": "slower",
           "faster": "faster", "louder": "louder", "softer": "softer", "help": "help", "goodbye": "goodbye",
           "wake": "hey coach", "emergency": "help me i fell"}
WAKE = "hey coach"
# 25 per person in that person's voice (a third of them short words close to an enrolled one) ...
SAME_VOICE = ["shop", "yet", "know", "repeated", "bore", "flower", "master", "powder", "softly", "held",
              "good boy", "hey", "coffee",
              "what is occupational therapy", "my shoulder hurts when i lift my arm", "is it raining outside",
              "please pass the salt", "i would like some tea", "where is the remote", "i slept well",
              "turn the light off", "how long is the session", "my hands feel stiff today",
              "can we go for a walk", "what day is it today"]
# ... and 25 per person in other voices (a caregiver, the television).
OTHER_VOICES = ["stop the car at the corner", "yes we have no bananas", "the news at nine tonight",
                "more rain is expected tomorrow", "slower traffic keep right", "louder than ever before",
                "help is on the way for the town", "goodbye and thank you for watching",
                "what do physical therapists do", "i will be back in ten minutes", "did you take your pills",
                "dinner is ready", "let me open the window", "your appointment is on tuesday",
                "the game starts at eight", "it is sunny and warm", "who wants dessert", "the phone is ringing",
                "shall i call the doctor", "put on your shoes", "that is a lovely picture",
                "we need more milk", "the bus was late again", "tell me about your day", "sleep well"]
# The dev split's own other utterances, in the same proportions.
DEV_SAME_VOICE = ["top", "yeah", "now", "repair", "door", "lower", "after", "loud", "sofa", "hello", "good night",
                  "hay", "coach", "help me find it", "i feel fine", "how do i hold a spoon", "what time is lunch",
                  "my leg is sore", "is the door locked", "open the curtains", "thank you dear",
                  "can you say that again please", "i want to sit down", "the water is cold",
                  "where are my glasses"]
DEV_OTHER_VOICES = ["stop at the shop", "yes please", "no thank you", "more coffee", "help yourself",
                    "goodbye for now", "the weather is fine", "what is physical therapy", "time for your walk",
                    "lunch is at noon", "have you seen my keys", "the kettle is boiling", "turn it down a bit",
                    "we are out of bread", "see you tomorrow", "the match is on", "that was lovely",
                    "he is at work", "it is raining again", "slower please", "louder music", "faster than that",
                    "repeat after me", "softer pillows", "hey there"]


@dataclass(frozen=True)
class Split:
    people: tuple[dict[str, Any], ...]  # tests/impaired_voice.Person arguments
    new_takes: range
    same_voice: list[str]
    other_voices: list[str]
    first_other_voice: int  # where this split starts in impaired_voice.other_voice's rotation of voices


SPLITS = {
    "heldout": Split((dict(seed=11), dict(seed=12, voice="en-us+f3", speed=95, pitch=55, muffle_hz=2200.0)),
                     range(30, 34), SAME_VOICE, OTHER_VOICES, 0),
    "dev": Split((dict(seed=1), dict(seed=2, voice="en-us+f1", speed=100, pitch=60, muffle_hz=2300.0)),
                 range(30, 36), DEV_SAME_VOICE, DEV_OTHER_VOICES, 3),
}


def _right(name: str, text: str, understander) -> bool:
    """Did the conversation get what was meant from this text (as `TurnTaking.hear` reads it)?"""
    from assistant.core.wake import WakeWord

    if name == "wake":
        woke, rest = WakeWord(WAKE).split(text)
        return woke and not rest.strip()
    decision = understander.understand(text)
    if name == "emergency":
        return decision.is_emergency
    return decision.kind == "command" and decision.command == name


def main(split: str = "heldout") -> dict[str, Any]:
    from impaired_voice import Person, other_voice

    if split not in SPLITS:
        raise SystemExit(f"bench.phrases: no split {split!r}; use one of {', '.join(SPLITS)}")
    chosen = SPLITS[split]

    from assistant.config import DEFAULT_CONTENT_DIR, Settings
    from assistant.core.loader import load_content
    from assistant.core.understanding import Understander
    from assistant.core.wake import WakeWord
    from assistant.phrases.personal import PersonalPhrases
    from assistant.recognition import open_recognizer
    from assistant.recognition.reading import addressed_reading, reading_to_act_on

    content = load_content(DEFAULT_CONTENT_DIR)
    understander = Understander(content)
    wake = WakeWord(WAKE)

    def heard_as_the_loop_reads(transcript) -> str:  # the words the listening loop acts on
        # each take is said in a room with no other speech in it (Utterance.above_room_db: inf)
        return reading_to_act_on(addressed_reading(transcript, float("inf")), understander, wake.split)

    recognizer = open_recognizer(Settings(), content, wake_phrase=WAKE)
    print(f"recognizer: {recognizer.description}; split: {split}", flush=True)
    counts = dict(takes=0, alone=0, combined=0, asked=0, match_right=0, match_wrong=0, match_none=0,
                  others=0, false_matches=0, changed=0, false_emergencies=0)
    costs: list[float] = []
    misses: list[str] = []
    for index, person in enumerate(Person(**arguments) for arguments in chosen.people):
        recordings = {name: [person.say(text, take) for take in range(3)] for name, text in SAYINGS.items()}
        phrases = PersonalPhrases(recordings, understander, wake_phrase=WAKE)
        twelve = PersonalPhrases({k: v for k, v in recordings.items() if k != "wake"}, understander, WAKE)
        for name, text in SAYINGS.items():
            for take in chosen.new_takes:
                audio = person.say(text, take)
                transcript = heard_as_the_loop_reads(recognizer.transcribe(audio))
                heard = phrases.hear(audio, transcript)
                match = phrases.match(audio)
                start = time.perf_counter()
                twelve.match(audio)
                costs.append((time.perf_counter() - start) * 1000)
                counts["takes"] += 1
                counts["alone"] += _right(name, transcript, understander)
                good = not heard.ask_back and _right(name, heard.text, understander)
                counts["combined"] += good
                counts["asked"] += heard.ask_back
                key = "match_none" if match is None else "match_right" if match.name == name else "match_wrong"
                counts[key] += 1
                if not good:
                    misses.append(f"{name}: heard {transcript!r}, matched {match.name if match else None}")
        others = [person.say(t, 60 + i) for i, t in enumerate(chosen.same_voice)]
        others += [other_voice(t, i + 7 * index + chosen.first_other_voice) for i, t in enumerate(chosen.other_voices)]
        for audio in others:
            transcript = heard_as_the_loop_reads(recognizer.transcribe(audio))
            heard = phrases.hear(audio, transcript)
            counts["others"] += 1
            counts["false_matches"] += heard.phrase is not None
            if heard.phrase is not None:
                misses.append(f"false match {heard.phrase}: heard {transcript!r}")
                # a match that only repeats what the recognizer heard ("know" heard as "no") changes nothing
                before, after = understander.understand(transcript), understander.understand(heard.text)
                counts["changed"] += (before.kind, before.command) != (after.kind, after.command) or heard.ask_back
            emergency_now = understander.understand(heard.text).is_emergency
            counts["false_emergencies"] += emergency_now and not understander.understand(transcript).is_emergency
    takes, others = counts["takes"], counts["others"]
    figures = {
        "decided right with enrollment (>= 90 %)": f"{100 * counts['combined'] / takes:.1f} % of {takes}",
        "decided right, recognizer alone": f"{100 * counts['alone'] / takes:.1f} %",
        "yes/no asked back": counts["asked"],
        "matcher alone: right / wrong / none": f"{counts['match_right']} / {counts['match_wrong']} / "
                                               f"{counts['match_none']}",
        "false matches on other speech (<= 1 %)": f"{100 * counts['false_matches'] / others:.1f} % "
                                                  f"({counts['false_matches']} of {others})",
        "... of which changed the decision": counts["changed"],
        "false emergencies (0)": counts["false_emergencies"],
        "matching ms per utterance, 12 enrolled (<= 20)": f"median {np.median(costs):.1f}, "
                                                          f"p95 {np.percentile(costs, 95):.1f}",
    }
    for name, value in figures.items():
        print(f"{name:<50} {value}")
    for line in misses:
        print(f"  not decided: {line}")
    return figures


if __name__ == "__main__":
    main(*sys.argv[1:2])
