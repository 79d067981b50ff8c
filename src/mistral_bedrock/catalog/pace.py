"""How fast real Bedrock answers, per model: time to first token and output speed, for ``serve --pace bedrock``.

Each value carries its evidence grade beside it, as the rest of the catalog does:

* ``[S]`` a third-party measurement of the model *on Amazon Bedrock*, with its source named;
* ``[I]`` inferred: from the same model measured on other providers' APIs, scaled by how Bedrock compared with
  them where both were measured, or from the model's size and architecture next to measured neighbours.

Sources: Artificial Analysis (AA), provider pages for Mistral 7B Instruct (Amazon: 74.4 output tokens/s, 0.33 s to
first token; Mistral's API: 162 tokens/s, 0.29 s) and Mistral Large 24.02 (Amazon: 0.41 s to first token; output
speed below Azure's 40 and Mistral's 38 tokens/s), and their Mistral page (Ministral 3 3B at 292 tokens/s, 0.28 s;
Ministral 3 8B at 0.29 s, on Mistral's API) — all medians of single short-prompt requests, which is what a paced
local runtime imitates. Where only Mistral's own API was measured, Bedrock is taken to stream at about half its
speed (74.4 / 162 for Mistral 7B) and to answer its first token about as fast.

These are typical figures, not guarantees: Bedrock's real timing varies with load, Region, prompt length and
the latency-optimised tier. They exist so that timeouts, spinners and streaming UIs can be tried against
something shaped like the real service.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["DEFAULT_PACE", "PACES", "ModelPace", "pace_for"]


@dataclass(frozen=True)
class ModelPace:
    """One model's timing on Bedrock.

    Attributes:
        ttft_ms: Time to first token, from the request to the first byte of the answer, in milliseconds.
        tokens_per_s: Output tokens per second once the answer streams.
        evidence: The grade and source of each value, keyed ``ttft_ms`` and ``tokens_per_s``.
    """

    ttft_ms: int
    tokens_per_s: float
    evidence: Mapping[str, str]

    def __post_init__(self) -> None:
        if self.ttft_ms < 0 or self.tokens_per_s <= 0:
            raise ValueError(f"a pace needs ttft_ms >= 0 and tokens_per_s > 0, got {self}")


def _pace(ttft_ms: int, ttft_grade: str, tokens_per_s: float, speed_grade: str) -> ModelPace:
    return ModelPace(ttft_ms, tokens_per_s, MappingProxyType({"ttft_ms": ttft_grade, "tokens_per_s": speed_grade}))


_AA = "Artificial Analysis, Amazon provider"
_HALF_SPEED = "Bedrock streams Mistral 7B at 0.46x Mistral's API speed"

# Keyed by the Bedrock model id of every entry of mistral_bedrock.catalog.MODELS (a test holds them in step).
PACES: Mapping[str, ModelPace] = MappingProxyType(
    {
        "mistral.mistral-7b-instruct-v0:2": _pace(330, f"[S] {_AA}", 74.4, f"[S] {_AA}"),
        "mistral.mixtral-8x7b-instruct-v0:1": _pace(
            350, "[I] as Mistral 7B, a little slower", 55, "[I] 13B active parameters, between 7B and Small"
        ),
        "mistral.mistral-small-2402-v1:0": _pace(
            400,
            "[I] Mistral's and Azure's APIs measured 0.31-0.51 s",
            45,
            "[I] Azure 53, Mistral 65 t/s; Bedrock slower",
        ),
        "mistral.mistral-large-2402-v1:0": _pace(410, f"[S] {_AA}", 30, "[I] below Azure 40, Mistral 38 t/s (AA)"),
        "mistral.mistral-large-2407-v1:0": _pace(450, "[I] 123B, as Large 24.02", 30, "[I] as Large 24.02"),
        "mistral.pixtral-large-2502-v1:0": _pace(500, "[I] 124B, Large 2 with a vision encoder", 28, "[I] as Large 2"),
        "mistral.mistral-large-3-675b-instruct": _pace(
            600, "[I] 675B mixture of experts", 35, "[I] 41B active parameters: a little faster than Large 2"
        ),
        "mistral.ministral-3-3b-instruct": _pace(
            300, "[I] 0.28 s on Mistral's API (AA)", 130, f"[I] 292 t/s; {_HALF_SPEED}"
        ),
        "mistral.ministral-3-8b-instruct": _pace(
            300, "[I] 0.29 s on Mistral's API (AA)", 100, "[I] between Ministral 3 3B and Mistral 7B"
        ),
        "mistral.ministral-3-14b-instruct": _pace(350, "[I] between 8B and Small", 70, "[I] between 8B and 24B"),
        "mistral.magistral-small-2509": _pace(
            400, "[I] 24B, as Mistral Small; before reasoning tokens", 55, "[I] 24B dense, as Mistral Small"
        ),
        "mistral.voxtral-mini-3b-2507": _pace(300, "[I] 3B, as Ministral 3 3B", 120, "[I] 3B decoder"),
        "mistral.voxtral-small-24b-2507": _pace(400, "[I] 24B, as Mistral Small", 55, "[I] 24B decoder"),
        "mistral.devstral-2-123b": _pace(500, "[I] 123B dense, as Large 2", 30, "[I] 123B dense, as Large 2"),
    }
)

# For a model the table does not list yet: a mid-size model's timing, so pacing never fails a request.
DEFAULT_PACE = _pace(450, "[I] a mid-size model", 40, "[I] a mid-size model")


def pace_for(model_id: str) -> ModelPace:
    """The pace of a Bedrock model id (``mistral.…``); :data:`DEFAULT_PACE` for one the table lacks."""
    return PACES.get(model_id, DEFAULT_PACE)
