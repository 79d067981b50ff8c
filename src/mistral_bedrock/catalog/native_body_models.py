"""The 2023-24 models, which speak Mistral's own bodies over InvokeModel: the text body, and the chat body for
Small and Large. Each value has its evidence grade beside it; the sources and how their conflicts are decided are
in :mod:`.evidence`.
"""

from __future__ import annotations

from .evidence import NO_PROFILES, PROFILES_D1, REGIONS_D1
from .spec import ConverseFeatures, Dialect, ModelSpec, ParamSpec

__all__ = ["NATIVE_BODY_MODELS"]

_TEXT_INSTRUCT_PARAMS = {
    "temperature": ParamSpec(0.5, 0.0, 1.0),
    "top_p": ParamSpec(0.9, 0.0, 1.0),
    "top_k": ParamSpec(50, 1, 200),
}
# The text body's parameters. Mistral's chat body (D5) takes only max_tokens, temperature and top_p from these
# (no top_k, no stop): formats.chat holds that key set, these rows give the ranges.
_LARGE_PARAMS = {
    "temperature": ParamSpec(0.7, 0.0, 1.0),
    "top_p": ParamSpec(1.0, 0.0, 1.0),
    "top_k": ParamSpec(None, 1, 200),  # disabled unless sent
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

# R9: the Regions (D1) of the 2023-24 models.
_R9 = frozenset(
    {
        "us-east-1",
        "us-west-2",
        "ca-central-1",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "ap-south-1",
        "ap-southeast-2",
        "sa-east-1",
    }
)
_LEGACY_FEATURES = "[D~] Converse feature table (D10)"
_TOKENIZER_EXACT = "[S] mistral-common's model → tokenizer table"


def _params(max_default: int, max_output: int, rest: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
    return {"max_tokens": ParamSpec(max_default, 1, max_output), **rest}


NATIVE_BODY_MODELS: tuple[ModelSpec, ...] = (
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
        regions=_R9,
        profiles=NO_PROFILES,
        evidence={
            "dialects": "[D] text-completion page (D4); Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D] model card: 32K (D3)",
            "max_output": "[D] parameter page: 8,192 (D4); the card says 4K (D3): the parameter page wins",
            "params": "[D] max_tokens (D4); [S] temperature/top_p/top_k defaults and ranges (S3)",
            "max_stop": "[I]",
            "converse": _LEGACY_FEATURES,
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": REGIONS_D1,
            "profiles": PROFILES_D1,
        },
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
        regions=_R9,
        profiles=NO_PROFILES,
        evidence={
            "dialects": "[D] text-completion page (D4); Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D~] model card: 32K (D7)",
            "max_output": "[D] parameter page: 4,096 (D4); the card agrees (D7)",
            "params": "[D] max_tokens (D4); [S] temperature/top_p/top_k defaults and ranges (S3)",
            "max_stop": "[I]",
            "converse": _LEGACY_FEATURES,
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": REGIONS_D1,
            "profiles": PROFILES_D1,
        },
        released="2023-12",
    ),
    ModelSpec(
        model_id="mistral.mistral-small-2402-v1:0",
        name="Mistral Small (24.02)",
        aliases=("mistral-small", "mistral-small-2402"),
        # The text body is the documented one (D4); the chat body only third-party code sends (S3).
        dialects=(Dialect.TEXT, Dialect.CHAT),
        tokenizer="v2",
        tokenizer_exact=True,
        context_window=32_000,
        max_output=8_192,
        params=_params(8_192, 8_192, _LARGE_PARAMS),
        max_stop=10,
        converse=_SMALL_CONVERSE,
        price_input=0.001,
        price_output=0.003,
        regions=frozenset({"us-east-1"}),
        profiles=NO_PROFILES,
        evidence={
            "dialects": "[D] text body (D4); [S] chat body (S3); Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D~] model card: 32K (D7)",
            "max_output": "[D] parameter page default 8,192 (D4); the card says 4K (D7): the parameter page wins",
            "params": "[D] max_tokens (D4); [S] the rest (S3)",
            "max_stop": "[I]",
            "converse": "[D~] feature table (D10); toolChoice auto/any [I] (D8 names only Mistral Large)",
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": "[D~] us-east-1 only (D1, D7)",
            "profiles": PROFILES_D1,
        },
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
        regions=_R9,
        profiles=NO_PROFILES,
        evidence={
            "dialects": "[D] text (D4) and chat (D5) bodies; Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D~] model card: 32K (D7)",
            "max_output": "[D] parameter page: 8,192 (D4); the card says 4K (D7): the parameter page wins",
            "params": "[D] max_tokens (D4); [S] the rest (S3); the chat body takes no top_k or stop (D5)",
            "max_stop": "[I]",
            "converse": "[D~] feature table (D10); toolChoice auto/any [D] (D8)",
            "price": "[S] S3; S1 says 0.008/0.024 and the card scrape 0.002/0.006: unverifiable",
            "regions": REGIONS_D1,
            "profiles": PROFILES_D1,
        },
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
        regions=frozenset({"us-west-2"}),
        profiles=NO_PROFILES,
        evidence={
            "dialects": "[D] chat body (model-parameters-mistral-large-2407); [R] a prompt body answered (R2)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[S] 128K (S1, S3); no AWS card",
            "max_output": "[S] 8,192 (S3); S1 says 8,191",
            "params": "[S] as Large 24.02 (S3)",
            "max_stop": "[I]",
            "converse": "[D~] feature table (D10); toolChoice auto/any [D] (D8)",
            "price": "[S] S3; S1 says 0.003/0.009: unverifiable",
            "regions": "[D~] us-west-2 only (D1)",
            "profiles": PROFILES_D1,
        },
        released="2024-07",
    ),
)
