"""``ScriptedEngine.unused_rules()``, which the plugin's teardown check reads, and ``JournalEntry.body``, which its
``requests`` show."""

from __future__ import annotations

from mistral_bedrock.catalog import Dialect
from mistral_bedrock.engines.scripted import ScriptedEngine
from mistral_bedrock.runtime.journal import JournalEntry
from tests.engines.engines_support import chat, collect

RULES = {
    "rules": [
        {"name": "weather", "contains": "weather", "turn": 1, "reply": {"text": "Sunny."}},
        {"model": "mistral-large-2402", "dialect": "converse", "regex": "^Hi", "sequence": [{"text": "One."}]},
        {"reply": {"text": "Anything."}},
    ]
}


def answer(engine: ScriptedEngine, text: str) -> None:
    collect(engine, chat(text, dialect=Dialect.CONVERSE))


def test_the_rules_that_answered_nothing_since_the_last_reset() -> None:
    engine = ScriptedEngine(RULES)
    assert engine.unused_rules() == [
        "rule 0 ('weather'): contains='weather', turn=1",
        "rule 1: model='mistral.mistral-large-2402-v1:0', regex='^Hi', dialect='converse'",
        "rule 2: no conditions",
    ]
    answer(engine, "Hi there")
    answer(engine, "Something else")
    assert engine.unused_rules() == ["rule 0 ('weather'): contains='weather', turn=1"]
    engine.reset()
    assert len(engine.unused_rules()) == 3


def test_a_journal_entrys_body_is_parsed_json_or_text() -> None:
    def entry(raw: bytes, *, truncated: bool = False) -> JournalEntry:
        return JournalEntry("id", "Converse", "m", None, 200, None, raw, body_truncated=truncated)

    assert entry(b'{"prompt": "x"}').body == {"prompt": "x"}
    assert entry(b"not json").body == "not json"
    assert entry(b'{"prompt": "x', truncated=True).body == '{"prompt": "x'
