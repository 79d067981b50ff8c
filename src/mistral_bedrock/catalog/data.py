"""Every Mistral model on Bedrock, as data.

Sources: the AWS model-parameter pages and model cards for limits, mistral-common's own model → tokenizer
table for tokenizers, the AWS "supported models and model features" table for Converse flags, and the
on-demand price list (us-east-1) for prices. Values marked "inferred" in the comments are sensible defaults
that no primary source pins down; they are data, so correcting one is a one-line change here.
"""

from __future__ import annotations

from .spec import ConverseFeatures, Dialect, ModelSpec, ParamSpec

__all__ = ["MODELS"]

_TEXT_INSTRUCT_PARAMS = {
    "temperature": ParamSpec(0.5, 0.0, 1.0),
    "top_p": ParamSpec(0.9, 0.0, 1.0),
    "top_k": ParamSpec(50, 1, 200),
}
_LARGE_PARAMS = {
    "temperature": ParamSpec(0.7, 0.0, 1.0),
    "top_p": ParamSpec(1.0, 0.0, 1.0),
    "top_k": ParamSpec(None, 1, 200),  # disabled unless sent
}
_OPENAI_PARAMS = {
    "temperature": ParamSpec(0.7, 0.0, 1.0),  # inferred
    "top_p": ParamSpec(1.0, 0.0, 1.0),  # inferred
}

_INSTRUCT_CONVERSE = ConverseFeatures(
    system=False,
    tools=False,
    tool_choice=frozenset(),
    streaming_tools=False,
    documents=True,
    images=False,
)
_LARGE_CONVERSE = ConverseFeatures(
    system=True,
    tools=True,
    tool_choice=frozenset({"auto", "any"}),
    streaming_tools=False,
    documents=True,
    images=False,
)
_SMALL_CONVERSE = ConverseFeatures(
    system=True,
    tools=True,
    tool_choice=frozenset({"auto", "any"}),
    streaming_tools=False,
    documents=False,
    images=False,
)
_VISION_CONVERSE = ConverseFeatures(
    system=True,
    tools=True,
    tool_choice=frozenset({"auto", "any"}),  # inferred
    streaming_tools=False,  # inferred: no Mistral model streams tool use on Bedrock
    documents=True,  # inferred
    images=True,
)
_NEW_TEXT_CONVERSE = ConverseFeatures(
    system=True,
    tools=True,
    tool_choice=frozenset({"auto", "any"}),  # inferred
    streaming_tools=False,  # inferred
    documents=True,  # inferred
    images=False,
)


def _params(max_default: int, max_output: int, rest: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
    return {"max_tokens": ParamSpec(max_default, 1, max_output), **rest}


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        model_id="mistral.mistral-7b-instruct-v0:2",
        name="Mistral 7B Instruct",
        aliases=("mistral-7b", "mistral-7b-instruct"),
        dialects=(Dialect.TEXT,),
        tokenizer="v1",
        tokenizer_exact=True,
        context_window=32_000,
        max_output=8_192,
        params=_params(512, 8_192, _TEXT_INSTRUCT_PARAMS),
        max_stop=10,
        converse=_INSTRUCT_CONVERSE,
        price_input=0.00015,
        price_output=0.0002,
        released="2023-12",
    ),
    ModelSpec(
        model_id="mistral.mixtral-8x7b-instruct-v0:1",
        name="Mixtral 8x7B Instruct",
        aliases=("mixtral-8x7b", "mixtral", "mixtral-8x7b-instruct"),
        dialects=(Dialect.TEXT,),
        tokenizer="v1",
        tokenizer_exact=True,
        context_window=32_000,
        max_output=4_096,
        params=_params(512, 4_096, _TEXT_INSTRUCT_PARAMS),
        max_stop=10,
        converse=_INSTRUCT_CONVERSE,
        price_input=0.00045,
        price_output=0.0007,
        released="2023-12",
    ),
    ModelSpec(
        model_id="mistral.mistral-small-2402-v1:0",
        name="Mistral Small (24.02)",
        aliases=("mistral-small", "mistral-small-2402"),
        dialects=(Dialect.CHAT, Dialect.TEXT),
        tokenizer="v2",
        tokenizer_exact=True,
        context_window=32_000,
        max_output=8_192,
        params=_params(8_192, 8_192, _LARGE_PARAMS),
        max_stop=10,
        converse=_SMALL_CONVERSE,
        price_input=0.001,
        price_output=0.003,
        released="2024-02",
    ),
    ModelSpec(
        model_id="mistral.mistral-large-2402-v1:0",
        name="Mistral Large (24.02)",
        aliases=("mistral-large-2402",),
        dialects=(Dialect.CHAT, Dialect.TEXT),
        tokenizer="v2",
        tokenizer_exact=True,
        context_window=32_000,
        max_output=8_192,
        params=_params(8_192, 8_192, _LARGE_PARAMS),
        max_stop=10,
        converse=_LARGE_CONVERSE,
        price_input=0.004,
        price_output=0.012,
        released="2024-02",
    ),
    ModelSpec(
        model_id="mistral.mistral-large-2407-v1:0",
        name="Mistral Large 2 (24.07)",
        aliases=("mistral-large-2407", "mistral-large-2"),
        dialects=(Dialect.CHAT, Dialect.TEXT),
        tokenizer="v3",
        tokenizer_exact=True,
        context_window=128_000,
        max_output=8_192,
        params=_params(8_192, 8_192, _LARGE_PARAMS),
        max_stop=10,
        converse=_LARGE_CONVERSE,
        price_input=0.002,
        price_output=0.006,
        released="2024-07",
    ),
    ModelSpec(
        model_id="mistral.pixtral-large-2502-v1:0",
        name="Pixtral Large (25.02)",
        aliases=("pixtral-large", "pixtral-large-2502"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v7-mm",  # mistral-common lists pixtral-large-2411 as v7 multimodal; 2502 inferred
        tokenizer_exact=True,
        context_window=128_000,
        max_output=16_384,
        params=_params(8_192, 16_384, _OPENAI_PARAMS),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.002,
        price_output=0.006,
        requires_profile=True,
        released="2025-02",
    ),
    ModelSpec(
        model_id="mistral.mistral-large-3-675b-instruct",
        name="Mistral Large 3",
        aliases=("mistral-large", "mistral-large-3"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v3-tekken",  # its own tekken does not ship with mistral-common: nearest stands in
        tokenizer_exact=False,
        context_window=256_000,
        max_output=16_384,  # inferred
        params=_params(8_192, 16_384, _OPENAI_PARAMS),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.0005,  # inferred
        price_output=0.0015,  # inferred
        released="2025-12",
    ),
    *(
        ModelSpec(
            model_id=f"mistral.ministral-3-{size}-instruct",
            name=f"Ministral 3 {size.upper()}",
            aliases=(f"ministral-3-{size}", f"ministral-{size}"),
            dialects=(Dialect.CHAT_OPENAI,),
            tokenizer="v3-tekken",
            tokenizer_exact=False,
            context_window=128_000,  # inferred
            max_output=16_384,  # inferred
            params=_params(8_192, 16_384, _OPENAI_PARAMS),
            max_stop=10,
            converse=_VISION_CONVERSE,
            price_input=price,  # inferred
            price_output=price,  # inferred
            released="2025-12",
        )
        for size, price in (("3b", 0.0001), ("8b", 0.00015), ("14b", 0.0002))
    ),
    ModelSpec(
        model_id="mistral.magistral-small-2509",
        name="Magistral Small 1.2",
        aliases=("magistral-small", "magistral-small-2509"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v3-tekken",
        tokenizer_exact=False,
        context_window=128_000,
        max_output=16_384,  # inferred
        params=_params(8_192, 16_384, _OPENAI_PARAMS),
        max_stop=10,
        converse=_NEW_TEXT_CONVERSE,
        price_input=0.0005,  # inferred
        price_output=0.0015,  # inferred
        released="2025-09",
    ),
    *(
        ModelSpec(
            model_id=f"mistral.voxtral-{size}-2507",
            name=f"Voxtral {size.split('-')[0].title()}",
            aliases=(f"voxtral-{size.split('-')[0]}",),
            dialects=(Dialect.CHAT_OPENAI,),
            tokenizer="v3-tekken",
            tokenizer_exact=False,
            context_window=32_000,
            max_output=8_192,  # inferred
            params=_params(4_096, 8_192, _OPENAI_PARAMS),
            max_stop=10,
            converse=_NEW_TEXT_CONVERSE,
            price_input=pin,  # inferred
            price_output=pout,  # inferred
            released="2025-07",
        )
        for size, pin, pout in (("mini-3b", 0.00004, 0.00004), ("small-24b", 0.0001, 0.0003))
    ),
)
