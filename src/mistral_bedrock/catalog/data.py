"""Every Mistral model on Bedrock, as data, each value with its evidence grade beside it (``evidence=``).

Sources (the tags are those of ``docs/FIDELITY.md`` and the catalog audit): AWS "Regional availability by
models" (D1), the Pixtral and 7B model cards (D2, D3), the text- and chat-completion parameter pages (D4, D5),
the API-compatibility page (D6), the other AWS model cards (D7), botocore's service model (D8), input
modalities from the cards (D9), the Converse feature table (D10); real traffic (R1 Pixtral ``us.`` profile,
R2 a ``prompt`` body on Large 2407); third-party data: LiteLLM's cost map (S1), models.dev (S2), pwshBedrock
(S3), AWS sample notebooks without outputs (S4), the AWS Price List via a third-party catalog (S5).

How conflicts are decided, once for every value:
* AWS text beats third-party data. Between two AWS texts, the parameter page (which documents the request
  validator's range) beats the model card (which describes the model).
* Where a card gives only a rounded "32K", "128K" or "16K" and no source gives an exact figure consistent with
  it, "K" is read as 1,000: the smaller reading, so a request that passes here passes on Bedrock.
* Between third-party figures with no AWS text, the smaller one, for the same reason.
The runtime's region check can be switched off (``RuntimeConfig.check_region``) where these data lag Bedrock.
"""

from __future__ import annotations

from .spec import ConverseFeatures, Dialect, ModelSpec, ParamSpec

__all__ = ["MODELS"]

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
_AUDIO_CONVERSE = ConverseFeatures(
    system=True,
    tools=True,
    tool_choice=frozenset({"auto", "any"}),  # inferred
    streaming_tools=False,  # inferred
    documents=True,  # inferred
    images=False,
    audio=True,  # Speech + Text input (D9, D7); Converse has an audio block (D8)
)

# Regions (D1). R9: the 2023-24 models; R10: the 2025 models.
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
_R10 = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-2",
        "eu-south-1",
        "eu-west-1",
        "eu-west-2",
        "ap-northeast-1",
        "ap-south-1",
        "ap-southeast-2",
        "sa-east-1",
    }
)
_NO_PROFILES: dict[str, frozenset[str]] = {}  # Geo and Global "not supported" in every Region (D1, D7)
_LEGACY_FEATURES = "[D~] Converse feature table (D10)"
_REGIONS_D1 = "[D~] Regional availability page (D1)"
_PROFILES_D1 = "[D~] no Geo/Global profile in any Region (D1); crossRegionInference empty on the card (D7)"
_TOKENIZER_EXACT = "[S] mistral-common's model → tokenizer table"
_TOKENIZER_NEAREST = "[I] its tokenizer does not ship with mistral-common: the nearest tekken stands in"


def _params(max_default: int, max_output: int, rest: dict[str, ParamSpec]) -> dict[str, ParamSpec]:
    return {"max_tokens": ParamSpec(max_default, 1, max_output), **rest}


def _new_model_evidence(**overrides: str) -> dict[str, str]:
    """Evidence shared by the OpenAI-style 2025 models; each model overrides what its own sources say."""
    return {
        "dialects": "[S] AWS sample notebooks send OpenAI-style bodies (S4); Converse listed (D6)",
        "tokenizer": _TOKENIZER_NEAREST,
        "params": "[I] no AWS page documents this body's parameters",
        "max_stop": "[I]",
        "converse": "[I] vision from the cards (D9); the rest inferred",
        "regions": _REGIONS_D1,
        "profiles": _PROFILES_D1,
        **overrides,
    }


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
        regions=_R9,
        profiles=_NO_PROFILES,
        evidence={
            "dialects": "[D] text-completion page (D4); Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D] model card: 32K (D3)",
            "max_output": "[D] parameter page: 8,192 (D4); the card says 4K (D3): the parameter page wins",
            "params": "[D] max_tokens (D4); [S] temperature/top_p/top_k defaults and ranges (S3)",
            "max_stop": "[I]",
            "converse": _LEGACY_FEATURES,
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": _REGIONS_D1,
            "profiles": _PROFILES_D1,
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
        profiles=_NO_PROFILES,
        evidence={
            "dialects": "[D] text-completion page (D4); Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D~] model card: 32K (D7)",
            "max_output": "[D] parameter page: 4,096 (D4); the card agrees (D7)",
            "params": "[D] max_tokens (D4); [S] temperature/top_p/top_k defaults and ranges (S3)",
            "max_stop": "[I]",
            "converse": _LEGACY_FEATURES,
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": _REGIONS_D1,
            "profiles": _PROFILES_D1,
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
        profiles=_NO_PROFILES,
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
            "profiles": _PROFILES_D1,
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
        profiles=_NO_PROFILES,
        evidence={
            "dialects": "[D] text (D4) and chat (D5) bodies; Converse (D6)",
            "tokenizer": _TOKENIZER_EXACT,
            "context_window": "[D~] model card: 32K (D7)",
            "max_output": "[D] parameter page: 8,192 (D4); the card says 4K (D7): the parameter page wins",
            "params": "[D] max_tokens (D4); [S] the rest (S3); the chat body takes no top_k or stop (D5)",
            "max_stop": "[I]",
            "converse": "[D~] feature table (D10); toolChoice auto/any [D] (D8)",
            "price": "[S] S3; S1 says 0.008/0.024 and the card scrape 0.002/0.006: unverifiable",
            "regions": _REGIONS_D1,
            "profiles": _PROFILES_D1,
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
        profiles=_NO_PROFILES,
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
            "profiles": _PROFILES_D1,
        },
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
        max_output=16_000,
        params=_params(8_192, 16_000, _OPENAI_PARAMS),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.002,
        price_output=0.006,
        regions=frozenset(),  # In-Region "not supported" everywhere: profiles only (D1, D2)
        profiles={
            "us": frozenset({"us-east-1", "us-east-2", "us-west-2"}),
            "eu": frozenset({"eu-central-1", "eu-north-1", "eu-west-1", "eu-west-3"}),
        },
        evidence={
            "dialects": "[R] OpenAI-style body (R3); Converse (D6)",
            "tokenizer": "[S] mistral-common lists pixtral-large-2411 as v7; [I] for the 2502 release",
            "context_window": "[D] model card: 128K (D2)",
            "max_output": "[D] model card: 16K (D2), read as 16,000; S1 says 4,096 and S2 8,192",
            "params": "[I] no AWS page documents this body's parameters",
            "max_stop": "[I]",
            "converse": "[D] vision (D2); the rest [I]",
            "price": "[S] S1, S3 and the card scrape agree",
            "regions": "[D] profiles only: In-Region not supported in any Region (D1, D2)",
            "profiles": "[D] us. and eu. only, Global not supported (D2); source Regions (D1); [R] us. used (R1)",
        },
        released="2025-02",
    ),
    ModelSpec(
        model_id="mistral.mistral-large-3-675b-instruct",
        name="Mistral Large 3",
        aliases=("mistral-large", "mistral-large-3"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v3-tekken",  # its own tekken does not ship with mistral-common: nearest stands in
        tokenizer_exact=False,
        context_window=128_000,
        max_output=32_000,
        params=_params(8_192, 32_000, _OPENAI_PARAMS),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.0005,
        price_output=0.0015,
        regions=_R10 - {"eu-south-1", "eu-west-1", "eu-west-2"},  # R10 without its EU Regions
        profiles=_NO_PROFILES,
        evidence=_new_model_evidence(
            context_window="[D~] model card: 128K (D7); S1 128,000; S6 128K (Mistral's own API: 256k)",
            max_output="[D~] model card: 32K (D7), read as 32,000; S1, S2, S6 say 8,192: AWS text wins",
            price="[S] AWS Price List SKU via S5; S1 agrees",
            regions="[D~] no EU Region (D1, D7)",
        ),
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
            context_window=128_000,
            max_output=8_192,
            params=_params(8_192, 8_192, _OPENAI_PARAMS),
            max_stop=10,
            converse=_VISION_CONVERSE,
            price_input=price,
            price_output=price,
            regions=_R10,
            profiles=_NO_PROFILES,
            evidence=_new_model_evidence(
                context_window=context,
                max_output="[S] 8,192 (S1, S2); the 8B/14B cards say 8K (D7), consistent",
                price="[S] S1 (the card scrape agrees for 8B/14B)",
            ),
            released="2025-12",
        )
        for size, price, context in (
            ("3b", 0.0001, "[S] 128K (S1); S2 says 256K: the smaller wins; no AWS card"),
            ("8b", 0.00015, "[D~] model card: 128K (D7); S1 agrees"),
            ("14b", 0.0002, "[D~] model card: 128K (D7); S1 agrees"),
        )
    ),
    ModelSpec(
        model_id="mistral.magistral-small-2509",
        name="Magistral Small 1.2",
        aliases=("magistral-small", "magistral-small-2509"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v3-tekken",
        tokenizer_exact=False,
        context_window=128_000,
        max_output=40_000,
        params=_params(8_192, 40_000, _OPENAI_PARAMS),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.0005,
        price_output=0.0015,
        regions=_R10,
        profiles=_NO_PROFILES,
        evidence=_new_model_evidence(
            context_window="[D~] model card: 128K (D7); S1, S2 agree",
            max_output="[D~] model card: 40K (D7); S2 40,000; S1 says 8,192: AWS text wins",
            converse="[D~] Image + Text input (D9, D7); images sent in an AWS sample (S4); the rest [I]",
            price="[S] S1",
            regions="[D~] R10 (D1); the card adds ap-southeast-3/4, eu-central-1, eu-north-1: D1 wins",
        ),
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
            max_output=4_096,
            params=_params(4_096, 4_096, _OPENAI_PARAMS),
            max_stop=10,
            converse=_AUDIO_CONVERSE,
            price_input=pin,
            price_output=pout,
            regions=_R10,
            profiles=_NO_PROFILES,
            evidence=_new_model_evidence(
                context_window="[D~] model card: 32K (D7); S1 says 128,000: AWS text wins",
                max_output="[S] not on the card; S1 says 8,192, S2 4,096: the smaller wins",
                converse="[D~] Speech + Text input (D9, D7); Converse audio block (D8); the rest [I]",
                price="[S] S1",
                regions="[D~] R10 (D1); the card adds ap-southeast-3/4, eu-central-1, eu-north-1: D1 wins",
            ),
            released="2025-07",
        )
        for size, pin, pout in (("mini-3b", 0.00004, 0.00004), ("small-24b", 0.0001, 0.0003))
    ),
    ModelSpec(
        model_id="mistral.devstral-2-123b",
        name="Devstral 2 123B",
        aliases=("devstral-2", "devstral-2-123b"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v3-tekken",
        tokenizer_exact=False,
        context_window=256_000,
        max_output=32_000,
        params=_params(8_192, 32_000, _OPENAI_PARAMS),
        max_stop=10,
        converse=_NEW_TEXT_CONVERSE,
        price_input=0.0004,
        price_output=0.002,
        regions=(_R10 - {"ap-south-1"}) | {"eu-central-1", "eu-north-1", "ap-southeast-3"},
        profiles=_NO_PROFILES,
        evidence=_new_model_evidence(
            dialects="[D~] OpenAI-compatible Chat Completions and Converse (D6, D7)",
            context_window="[D~] model card: 256K (D7), read as 256,000; S1, S2 agree",
            max_output="[D~] model card: 32K (D7), read as 32,000; S1, S2 say 8,192: AWS text wins",
            converse="[D~] text only (D9, D7); the rest [I]",
            price="[S] S1; the card scrape agrees",
        ),
        released="2025-12",
    ),
)
