"""Tokenizer loading, caching, lazy import, and what is discovered about each tokenizer."""

from __future__ import annotations

import subprocess
import sys

import pytest
from mistral_common.tokens.tokenizers.tekken import Tekkenizer

from mistral_bedrock.catalog import MODELS
from mistral_bedrock.prompt import TOKENIZER_NAMES, control_tokens, get_tokenizer, tokenizer_info


def test_every_catalog_tokenizer_is_known() -> None:
    assert {spec.tokenizer for spec in MODELS} <= set(TOKENIZER_NAMES)


@pytest.mark.parametrize(
    ("name", "version", "file_name"),
    [
        ("v1", "v1", "tokenizer.model.v1"),
        ("v2", "v2", "mistral_instruct_tokenizer_240216.model.v2"),
        ("v3", "v3", "mistral_instruct_tokenizer_240323.model.v3"),
        ("v7", "v7", "mistral_instruct_tokenizer_241114.model.v7"),
        ("v7-mm", "v7", "mistral_instruct_tokenizer_241114.model.v7m1"),
        ("v3-tekken", "v3", "tekken_240718.json"),
    ],
)
def test_get_tokenizer_loads_the_named_tokenizer(name: str, version: str, file_name: str) -> None:
    tokenizer = get_tokenizer(name)
    assert tokenizer.version.value == version
    assert tokenizer.instruct_tokenizer.tokenizer.file_path.name == file_name
    assert get_tokenizer(name) is tokenizer  # cached


def test_v7_mm_has_an_image_encoder_and_tekken_is_tekken() -> None:
    assert get_tokenizer("v7-mm").instruct_tokenizer.image_encoder is not None
    assert get_tokenizer("v7").instruct_tokenizer.image_encoder is None
    assert isinstance(get_tokenizer("v3-tekken").instruct_tokenizer.tokenizer, Tekkenizer)


def test_unknown_tokenizer_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="Unknown tokenizer 'v99'"):
        get_tokenizer("v99")
    with pytest.raises(ValueError, match="Unknown tokenizer"):
        tokenizer_info("tekken")


def test_importing_the_package_does_not_import_mistral_common() -> None:
    code = (
        "import sys, mistral_bedrock, mistral_bedrock.prompt; "
        "from mistral_bedrock.prompt import render, encode_prompt; "
        "assert 'mistral_common' not in sys.modules, 'mistral_common imported eagerly'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_v1_control_tokens_are_only_bos_and_eos() -> None:
    controls = control_tokens(MODELS[0])
    assert controls == {"<s>": 1, "</s>": 2}
    assert "[INST]" not in controls  # plain text for v1


@pytest.mark.parametrize("name", ["v2", "v3", "v7", "v7-mm", "v3-tekken"])
def test_instruct_and_tool_control_tokens_from_v2(name: str) -> None:
    controls = tokenizer_info(name).control
    assert controls["<s>"] == 1
    assert controls["</s>"] == 2
    assert controls["[INST]"] == 3
    assert controls["[/INST]"] == 4
    for text in ("[TOOL_CALLS]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]", "[/TOOL_RESULTS]"):
        assert text in controls


def test_system_prompt_tokens_exist_where_the_vocabulary_has_them() -> None:
    assert "[SYSTEM_PROMPT]" not in tokenizer_info("v2").control
    assert "[SYSTEM_PROMPT]" not in tokenizer_info("v3").control
    assert tokenizer_info("v7").control["[SYSTEM_PROMPT]"] == 16
    assert tokenizer_info("v7").control["[/SYSTEM_PROMPT]"] == 17
    assert tokenizer_info("v3-tekken").control["[SYSTEM_PROMPT]"] == 17


@pytest.mark.parametrize(
    ("name", "sentencepiece", "tools", "short_ids"),
    [
        ("v1", True, False, False),
        ("v2", True, True, False),
        ("v3", True, True, True),
        ("v7", True, True, True),
        ("v7-mm", True, True, True),
        ("v3-tekken", False, True, True),
    ],
)
def test_discovered_facts(name: str, sentencepiece: bool, tools: bool, short_ids: bool) -> None:
    info = tokenizer_info(name)
    assert info.sentencepiece is sentencepiece
    assert info.supports_tools is tools
    assert info.short_tool_ids is short_ids
    assert (info.bos_id, info.eos_id) == (1, 2)
