"""Emergency red flags: checked first on every utterance, whoever it is about, however it is worded; and the
look-alikes that must NOT raise the alarm."""

from __future__ import annotations

import pytest

from assistant.core.normalize import basic_tokens
from assistant.core.understanding import Understander

EMERGENCIES = {
    "stroke": [
        "she can't move her right arm all of a sudden",
        "my dad's face looks droopy",
        "one side of my face feels numb",
        "my husband's words are slurred",
        "mum suddenly can't talk",
        "i suddenly can't see out of one eye",
        "my grandad is slurring his words",
        "i think my wife is having a stroke",
        "is my mum having a stroke",
        "her face has dropped on one side",
        "he can't raise his left arm and his face is drooping",
        "my arm and leg on the left side went numb",
        "her smile looks lopsided",
        "out of nowhere my leg went weak",
        "my husband has just had a stroke",
    ],
    "chest": [
        "i feel a tightness in my chest",
        "chest pains",
        "my chest is hurting",
        "i have pain in my chest",
        "there's a pain in my chest spreading to my arm",
        "my husband has chest pain",
        "i'm having chest pains and i feel sick",
        "dad says his chest feels heavy",
        "it feels like an elephant is sitting on my chest and it hurts",
    ],
    "breathing": [
        "i can hardly breathe",
        "i can barely breathe",
        "i cant breath",
        "he can't breathe properly",
        "she's fighting for breath",
        "my mum is struggling to breathe",
        "he's not breathing",
        "i can't get air",
        "she's choking",
    ],
    "fall": [
        "my dad fell down and he's not moving",
        "gran had a fall in the garden and isn't moving",
        "i've had a fall and hit my head",
        "dad fell down the stairs and banged his head",
        "i fell and i can't get back up",
        "mum's fallen and i can't lift her",
        "my wife is on the floor and won't get up",
        "i've fallen over and can't stand up",
        "grandma slipped in the shower and there's a cut on her head",
    ],
    "collapse": [
        "he's collapsed",
        "grandma collapsed in the bathroom",
        "she fainted and isn't waking up",
        "he won't wake up",
        "my husband is unresponsive",
        "dad just blacked out",
        "i can't wake my wife",
        "he passed out at the table",
    ],
    "bleeding": [
        "he's bleeding a lot",
        "she's cut herself badly and it won't stop bleeding",
        "blood is pouring out of his leg",
        "i'm bleeding heavily from my arm",
    ],
    "seizure": [
        "he's having a seizure",
        "she's convulsing on the floor",
        "my son is having fits",
    ],
    "self_harm": [
        "i think i'm going to kill myself",
        "i want to end it all",
        "i'm thinking about suicide",
        "i want to die",
        "i'd be better off dead",
        "i feel like ending my life",
        "i've taken too many pills",
        "everyone would be better off without me",
        "i don't want to be here anymore",
        "i keep thinking about hurting myself",
    ],
    "call_for_help": [
        "help me i fell in the bathroom",
        "please help i've fallen",
        "somebody help",
        "someone help me",
        "help me somebody",
        "call 911",
        "call an ambulance please",
        "get an ambulance",
        "i need an ambulance",
        "call emergency services",
        "emergency",
        "i need help now",
        "can someone call for help",
        "help help",
    ],
}

# Said with fillers, capitals, punctuation, or wrapped in a command or a question: still emergencies first.
WRAPPED = [
    "STOP! I can't breathe!!",
    "um er my chest hurts",
    "what is o t i think i'm having a stroke",
    "slower please my chest hurts",
    "repeat that my husband collapsed",
    "My Face Is Drooping.",
    "can\u2019t breathe",
    "yes he's unconscious",
    "no she's not breathing",
]

# They look like red flags and are not emergencies.
LOOK_ALIKES = [
    "my chest of drawers is heavy",
    "the chest of drawers is too heavy to lift",
    "i fell behind on my exercises",
    "how do i stop falling behind on my exercises",
    "i fell asleep during my exercises",
    "help me use this",
    "can you help me with my exercises",
    "what can you help me with",
    "help me understand occupational therapy",
    "i'm dying to know what physio is",
    "my mum had a stroke last year and can't button her coat",
    "my dad had a stroke and needs help getting dressed",
    "what does an o t do after a stroke",
    "can physio help after a stroke",
    "is a stroke patient seen by pt or ot",
    "stroke rehab",
    "the exercises make my arms ache",
    "my heart sank when i saw the stairs",
    "i banged my knee on the table",
    "i fell and hurt my knee",
    "i'm afraid of falling",
    "i can't stand for long",
    "i can't get up the stairs",
    "my pain won't stop",
    "i feel a bit weak after my walk",
    "my arm feels heavy after exercise",
    "i'm breathing fine",
    "i take too many pills already",
    "i'm struggling to catch the bus",
    "i'm worried about a fall because i can't stand for long",
    "since my fall i can't move my shoulder much",
    "can physical therapy help me after a fall",
    "how can o t help prevent falls",
    "i had a fall last year and my balance is still not great",
    "help me get up from a chair without falling",
]

# A negation just before the red flag cancels it.
NEGATED = [
    ("i don't have chest pain just a sore knee", "pt"),
    ("no chest pain but my knee hurts", "pt"),
    ("i don't have any chest pain", "pt"),
    ("i'm not suicidal just fed up with my knee", "pt"),
    ("i'm not bleeding", None),
    ("i'm not suicidal", None),
    ("no i'm not having chest pain", "pt"),
]


def _rule_that_fires(understander: Understander, text: str) -> str | None:
    matcher = understander._red_flags  # which rule fired is not part of the Decision
    return matcher.match(matcher.without_look_alikes(basic_tokens(text)))


@pytest.mark.parametrize(("rule", "text"), [(rule, text) for rule, texts in EMERGENCIES.items() for text in texts])
def test_emergency(understander: Understander, rule: str, text: str):
    decision = understander.understand(text)
    assert (decision.kind, decision.disposition) == ("triage", "emergency"), text
    assert decision.answer == understander.emergency_answer()
    assert (decision.topic, decision.command, decision.confirm) == (None, None, False)
    assert _rule_that_fires(understander, text) == rule


@pytest.mark.parametrize("text", WRAPPED)
def test_emergency_wins_over_everything_else(understander: Understander, text: str):
    assert understander.understand(text).disposition == "emergency"


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alike_is_not_an_emergency(understander: Understander, text: str):
    decision = understander.understand(text)
    assert decision.disposition != "emergency"
    assert "{number}" not in decision.answer and understander.emergency_answer() != decision.answer


@pytest.mark.parametrize(("text", "disposition"), NEGATED)
def test_negation_cancels_the_red_flag(understander: Understander, text: str, disposition: str | None):
    decision = understander.understand(text)
    assert decision.disposition == disposition
    assert decision.kind == ("triage" if disposition else "unknown")


def test_every_red_flag_phrase_is_an_emergency_on_its_own(content, understander: Understander):
    """A phrase hidden by a look-alike (not_emergency) could never fire: each one must work as written."""
    dead = [(rule.id, phrase) for rule in content.red_flags.rules for phrase in rule.phrases
            if understander.understand(phrase).disposition != "emergency"]
    assert dead == []


def test_every_combination_fires(content, understander: Understander):
    """The first word of each group of each combination, said together, is an emergency."""
    for rule in content.red_flags.rules:
        for combo in rule.combos:
            text = " ".join(group[0] for group in combo)
            assert _rule_that_fires(understander, text) == rule.id, (rule.id, text)


def test_look_alike_phrases_are_not_emergencies_on_their_own(content, understander: Understander):
    raised = [phrase for phrase in content.red_flags.not_emergency
              if understander.understand(phrase).disposition == "emergency"]
    assert raised == []


@pytest.mark.parametrize("number", ["911", "999", "112", "000", "111"])
def test_the_emergency_number_is_a_setting(content, number: str):
    understander = Understander(content, emergency_number=number)
    answer = understander.understand("my husband has collapsed").answer
    assert answer == content.red_flags.answer.format(number=number)
    assert answer.count(number) == content.red_flags.answer.count("{number}") >= 1
    assert "{" not in answer
    if number != "911":
        assert "911" not in answer


@pytest.mark.parametrize(("heard", "emergency"), [
    ("my face is dripping and my speech is slord", True),  # what Whisper writes for drooping / slurred
    ("dads face is grouping", True),
    ("i have cast pain", True),
    ("dad had a bad foul and hit his head", True),
    ("the tap is dripping in the kitchen", False),  # a heard-as word alone is no red flag
    ("my cast comes off next week, when can i start physio", False),
    ("what is a foul in football", False),
])
def test_what_the_recognizer_writes_for_red_flag_words_counts_for_the_red_flag_check(
        understander: Understander, heard: str, emergency: bool):
    assert understander.understand(heard).is_emergency is emergency


def test_heard_as_words_never_reach_the_topics(understander: Understander):
    # "grouping" is read as "drooping" for the red-flag check only; elsewhere the words stay as heard
    assert understander.understand("what is grouping in occupational therapy").disposition != "emergency"
