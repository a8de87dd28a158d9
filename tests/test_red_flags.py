"""Emergency red flags: checked first on every utterance, whoever it is about, however it is worded; and the
look-alikes that must NOT raise the alarm."""

from __future__ import annotations

import pytest

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
        "she's convulsing on the floor",  # someone on the floor: the fall rule is checked first
        "please help i've fallen",
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
    return understander.red_flag(text)  # which rule fired is not part of the Decision


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


# Said the way people say it (typed, so not a hearing problem): other subjects, tenses, contractions, fillers,
# punctuation and capitals as a speech-to-text engine writes them.
IN_PEOPLES_WORDS = [
    ("I think mum's had a stroke", "stroke"),
    ("he's had a stroke", "stroke"),
    ("My husband has had a stroke.", "stroke"),
    ("i think she had a stroke", "stroke"),
    ("my heart hurts", "chest"),
    ("My chest is killing me!", "chest"),
    ("um my chest is like killing me", "chest"),
    ("I'm short of breath.", "breathing"),
    ("I can't get my breath", "breathing"),
    ("I've fallen", "fall"),
    ("Help, I've fallen.", "fall"),
    ("Mum's fallen, she's on the floor.", "fall"),
    ("he's on the floor", "fall"),
    ("I hit my head.", "fall"),
    ("I wish I was dead", "self_harm"),
    ("I Wish I Were Dead.", "self_harm"),
    ("she's like, collapsed", "collapse"),
    ("Dad's just had a nasty fall.", "fall"),  # the 's is "has" past "just"
    ("grandad's so out of breath", "breathing"),
    ("she's had a fall last year and now she's on the floor", "fall"),  # "now" starts another clause
    ("my son says he wants to kill himself", "self_harm"),
]


@pytest.mark.parametrize(("text", "rule"), IN_PEOPLES_WORDS)
def test_emergency_in_peoples_own_words(understander: Understander, text: str, rule: str):
    assert understander.understand(text).is_emergency, text
    assert _rule_that_fires(understander, text) == rule


# Past events are rehabilitation, not emergencies; idioms and furniture are not either.
HISTORY_AND_IDIOMS = [
    "I had a stroke last year",
    "since my stroke I can't do my buttons",
    "after her stroke she uses a walker",
    "my dad had a stroke three years ago",
    "the chest of drawers is too heavy",
    "I fell asleep in my chair",
    "help me understand what physio is",
    "I fell behind with my exercises",
    "we're just killing time before the appointment",
    "my back is killing me",
    "I don't have chest pain",
    "I've fallen behind with my exercises",
    "I've fallen a few times this year, can physio help my balance",
    # a past event dated, or after "since", "after", "when", "following", "recovering"
    "what does a therapist do after a heart attack",
    "since my heart attack I get tired on the stairs",
    "mum fell in March and now uses a frame",
    "he had a seizure in 2019 and none since",
    "when I fell I hurt my wrist, what exercises help",
    "my husband is recovering from a stroke",
    "I tripped on the kerb last week but I'm fine",
]


@pytest.mark.parametrize("text", HISTORY_AND_IDIOMS)
def test_history_and_idioms_stay_ordinary(understander: Understander, text: str):
    assert not understander.understand(text).is_emergency, text


def test_a_comma_does_not_split_a_phrase_but_a_full_stop_does(understander: Understander):
    assert understander.red_flag("Help, I've fallen.") == "fall"
    assert understander.red_flag("my chest, it hurts") == "chest"  # a combination reads the whole utterance
    assert understander.red_flag("he had a stroke. Just now he fell asleep") is None


def test_negation_is_what_the_file_says(content, understander: Understander):
    """Each 'negation' word cancels a match just before it, or across up to three 'between' words; any other
    word, a comma or a sentence end between them leaves the emergency standing."""
    flags = content.red_flags
    assert set(flags.negations) == {"no", "not", "never", "nor", "without"}
    for word in flags.negations:
        assert not understander.understand(f"{word} chest pain").is_emergency, word
        assert understander.understand(f"{word}, chest pain").is_emergency, word
        assert understander.understand(f"{word} idea why, chest pain").is_emergency, word
    for between in flags.negation_between:
        assert not understander.understand(f"not {between} chest pain").is_emergency, between
    assert not understander.understand("she has never had a seizure").is_emergency  # three between words
    assert understander.understand("she has never been seen to have had a seizure").is_emergency  # too far
    assert not understander.understand("without any chest pain").is_emergency
    for text in ("i don't know she collapsed", "I don't know, she collapsed", "No, she's not breathing",
                 "without warning she collapsed", "it's not my knee, I can't breathe"):
        assert understander.understand(text).is_emergency, text


@pytest.mark.parametrize("text", ["help", "help me", "Help!", "HELP ME!", "please help me", "help me please"])
def test_a_bare_help_is_asked_back_at_once(understander: Understander, text: str):
    decision = understander.understand(text)
    assert (decision.kind, decision.command, decision.confirm) == ("command", "help", True)
    assert decision.answer == understander.content.messages["emergency_check"]
    assert "emergency" in decision.answer.lower()


@pytest.mark.parametrize("text", ["help help", "somebody help me", "help me I've fallen", "help, I can't breathe"])
def test_help_with_more_is_the_emergency_at_once(understander: Understander, text: str):
    assert understander.understand(text).is_emergency


@pytest.mark.parametrize("text", ["can you help me", "what can you do", "help me understand occupational therapy"])
def test_asking_for_help_with_the_assistant_is_not_asked_back(understander: Understander, text: str):
    decision = understander.understand(text)
    assert not decision.is_emergency and not (decision.command == "help" and decision.confirm)
