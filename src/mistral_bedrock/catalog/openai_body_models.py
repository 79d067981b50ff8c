"""Pixtral and the 2025 models, which speak an OpenAI-style chat body over InvokeModel. Each value has its evidence
grade beside it; the sources and how their conflicts are decided are in :mod:`.evidence`.
"""

from __future__ import annotations

from .evidence import NO_PROFILES, PROFILES_D1, REGIONS_D1
from .spec import BatchSpec, ConverseFeatures, Dialect, ModelSpec, ParamSpec

__all__ = ["OPENAI_BODY_MODELS"]

_OPENAI_PARAMS = {
    "temperature": ParamSpec(0.7, 0.0, 1.0),  # inferred
    "top_p": ParamSpec(1.0, 0.0, 1.0),  # inferred
}

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

# R10: the Regions (D1) of the 2025 models.
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
_TOKENIZER_NEAREST = "[I] its tokenizer does not ship with mistral-common: the nearest tekken stands in"

# Batch inference (CreateModelInvocationJob): both invocation types. Converse-type jobs exist since the API change
# of 2026-02-27 [D]; that they take every batch-capable model is [I].
_BATCH_TYPES = frozenset({"InvokeModel", "Converse"})
_BATCH_PRICE_LIST = (
    "[R] AWS Price List batch rows (us-west-2), read by No-Stream/ai-safety-experiments' model roster "
    "(batch_price_verified=True)"
)


def _batch(price_input: float, price_output: float, note: str = "") -> BatchSpec:
    """A price-list-verified batch record; prices in USD per 1,000 tokens, as everywhere in the catalog."""
    return BatchSpec(
        price_input=price_input,
        price_output=price_output,
        invocation_types=_BATCH_TYPES,
        verified="price-list",
        evidence=_BATCH_PRICE_LIST + note,
    )


# Per model id; every other model's batch record is None (unknown: no source read confirms or rules it out).
_BATCH: dict[str, BatchSpec] = {
    # $0.25/$0.75 per million tokens: 50 % of $0.50/$1.50 on demand.
    "mistral.mistral-large-3-675b-instruct": _batch(0.00025, 0.00075),
    # $0.10/$0.10 per million: 50 % of $0.20/$0.20.
    "mistral.ministral-3-14b-instruct": _batch(0.0001, 0.0001),
    # $0.07/$0.07 per million: 47 % of the $0.15 on-demand price in this catalog (which is [S]), not 50 %: rounding,
    # or a $0.14 list price [I].
    "mistral.ministral-3-8b-instruct": _batch(0.00007, 0.00007, "; 47 % of the on-demand price here, not 50 % [I]"),
}


def _params(max_default: int, max_output: int) -> dict[str, ParamSpec]:
    return {"max_tokens": ParamSpec(max_default, 1, max_output), **_OPENAI_PARAMS}


def _new_model_evidence(**overrides: str) -> dict[str, str]:
    """Evidence shared by the OpenAI-style 2025 models; each model overrides what its own sources say."""
    return {
        "dialects": "[S] AWS sample notebooks send OpenAI-style bodies (S4); Converse listed (D6)",
        "tokenizer": _TOKENIZER_NEAREST,
        "params": "[I] no AWS page documents this body's parameters",
        "max_stop": "[I]",
        "converse": "[I] vision from the cards (D9); the rest inferred",
        "regions": REGIONS_D1,
        "profiles": PROFILES_D1,
        **overrides,
    }


OPENAI_BODY_MODELS: tuple[ModelSpec, ...] = (
    ModelSpec(
        model_id="mistral.pixtral-large-2502-v1:0",
        name="Pixtral Large (25.02)",
        aliases=("pixtral-large", "pixtral-large-2502"),
        dialects=(Dialect.CHAT_OPENAI,),
        tokenizer="v7-mm",  # mistral-common lists pixtral-large-2411 as v7 multimodal; 2502 inferred
        tokenizer_exact=True,
        context_window=128_000,
        max_output=16_000,
        params=_params(8_192, 16_000),
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
        params=_params(8_192, 32_000),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.0005,
        price_output=0.0015,
        regions=_R10 - {"eu-south-1", "eu-west-1", "eu-west-2"},  # R10 without its EU Regions
        profiles=NO_PROFILES,
        evidence=_new_model_evidence(
            context_window="[D~] model card: 128K (D7); S1 128,000; S6 128K (Mistral's own API: 256k)",
            max_output="[D~] model card: 32K (D7), read as 32,000; S1, S2, S6 say 8,192: AWS text wins",
            price="[S] AWS Price List SKU via S5; S1 agrees",
            regions="[D~] no EU Region (D1, D7)",
        ),
        released="2025-12",
        batch=_BATCH["mistral.mistral-large-3-675b-instruct"],
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
            params=_params(8_192, 8_192),
            max_stop=10,
            converse=_VISION_CONVERSE,
            price_input=price,
            price_output=price,
            regions=_R10,
            profiles=NO_PROFILES,
            evidence=_new_model_evidence(
                context_window=context,
                max_output="[S] 8,192 (S1, S2); the 8B/14B cards say 8K (D7), consistent",
                price="[S] S1 (the card scrape agrees for 8B/14B)",
            ),
            released="2025-12",
            batch=_BATCH.get(f"mistral.ministral-3-{size}-instruct"),
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
        params=_params(8_192, 40_000),
        max_stop=10,
        converse=_VISION_CONVERSE,
        price_input=0.0005,
        price_output=0.0015,
        regions=_R10,
        profiles=NO_PROFILES,
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
            params=_params(4_096, 4_096),
            max_stop=10,
            converse=_AUDIO_CONVERSE,
            price_input=pin,
            price_output=pout,
            regions=_R10,
            profiles=NO_PROFILES,
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
        params=_params(8_192, 32_000),
        max_stop=10,
        converse=_NEW_TEXT_CONVERSE,
        price_input=0.0004,
        price_output=0.002,
        regions=(_R10 - {"ap-south-1"}) | {"eu-central-1", "eu-north-1", "ap-southeast-3"},
        profiles=NO_PROFILES,
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
