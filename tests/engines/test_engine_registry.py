"""The engine registry: built-in names, ``NAME:ARG`` specs, entry-point discovery, and the package's exports."""

from __future__ import annotations

import importlib.metadata
import pkgutil
from typing import Any

import pytest

import mistral_bedrock.engines as engines
from mistral_bedrock.engines import (
    ENGINES,
    ENTRY_POINT_GROUP,
    BuiltinEngine,
    ScriptedEngine,
    available_engines,
    create_engine,
    engine,
    registry,
)
from tests.engines.engines_support import RULES_DIR


def fake_entry_points(monkeypatch: pytest.MonkeyPatch, **targets: str) -> None:
    points = [importlib.metadata.EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in targets.items()]

    def select(*, group: str) -> list[importlib.metadata.EntryPoint]:
        return points if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", select)


def test_builtin_engines() -> None:
    assert sorted(ENGINES) == ["builtin", "llamacpp", "replay", "scripted", "transformers", "upstream"]
    assert isinstance(create_engine("builtin"), BuiltinEngine)
    engine = create_engine(f"scripted:{RULES_DIR / 'tool_loop.yaml'}")
    assert isinstance(engine, ScriptedEngine)
    assert engine.rules.rules[0].name == "top song loop"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nope",
            r"Unknown engine 'nope'; available engines: builtin, llamacpp, replay, scripted, transformers, upstream",
        ),
        ("llamacpp", r"The llamacpp engine needs its model: 'llamacpp:PATH\.gguf'"),
        ("transformers:", r"The transformers engine needs its model: 'transformers:CHECKPOINT_DIR'"),
        ("upstream", r"The upstream engine needs its model: 'upstream:URL"),
        ("llamacpp:/does/not/exist.gguf", r"/does/not/exist\.gguf: no such GGUF model file"),
        ("scripted", r"scripted engine needs a rules file"),
        ("scripted:", r"scripted engine needs a rules file"),
        ("builtin:x", r"builtin engine takes no argument"),
        ("scripted:/does/not/exist.yaml", r"Cannot read rules file /does/not/exist\.yaml"),
    ],
)
def test_bad_specs(monkeypatch: pytest.MonkeyPatch, spec: str, message: str) -> None:
    fake_entry_points(monkeypatch)
    with pytest.raises(ValueError, match=message):
        create_engine(spec)


def test_third_party_engines_through_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(
        monkeypatch,
        echo="mistral_bedrock.engines.builtin:BuiltinEngine",
        broken="builtins:dict",
        builtin="builtins:dict",  # built-in names win
    )
    assert available_engines() == [
        "broken",
        "builtin",
        "echo",
        "llamacpp",
        "replay",
        "scripted",
        "transformers",
        "upstream",
    ]
    assert isinstance(create_engine("echo"), BuiltinEngine)
    assert isinstance(create_engine("builtin"), BuiltinEngine)
    with pytest.raises(TypeError, match=r"'broken'.*did not return an engine"):
        create_engine("broken")
    with pytest.raises(
        ValueError, match="available engines: broken, builtin, echo, llamacpp, replay, scripted, transformers, upstream"
    ):
        create_engine("missing")


def test_entry_point_gets_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_entry_points(monkeypatch, rules="mistral_bedrock.engines.scripted:ScriptedEngine.from_file")
    engine: Any = create_engine(f"rules:{RULES_DIR / 'contract.yaml'}")
    assert isinstance(engine, ScriptedEngine)


def test_all_is_sorted_complete_and_reexports_the_engine_interface() -> None:
    # isort-style, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions.
    assert engines.__all__ == sorted(
        engines.__all__, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n)
    )
    assert all(hasattr(engines, name) for name in engines.__all__)
    assert set(engine.__all__) <= set(engines.__all__)
    public = {
        name for name, value in vars(engines).items() if not name.startswith("_") and not hasattr(value, "__path__")
    }
    # pytest rewrites the asserts of a package that has a pytest11 entry point (ours: the bedrock fixture), and
    # leaves its helpers' names (@py_builtins…) in the module.
    public = {name for name in public if not name.startswith("@")}
    public -= {"annotations"}
    submodules = {module.name for module in pkgutil.iter_modules(engines.__path__)}
    assert public - submodules == set(engines.__all__)
