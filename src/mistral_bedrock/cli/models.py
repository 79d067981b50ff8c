"""``mistral-bedrock models``: the model catalog as a table, or as JSON with ``--json``.

Prices are Bedrock's on-demand prices (us-east-1), shown per million tokens. A ``~`` before a tokenizer means
the model's own tokenizer does not ship with mistral-common and the nearest one stands in (counts are
estimates); ``profile`` means on-demand calls must go through an inference profile (``us.…``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from .output import Output, json_option

if TYPE_CHECKING:
    from ..catalog import ModelSpec

__all__ = ["command", "model_json"]


def model_json(spec: ModelSpec) -> dict[str, Any]:
    """One catalog entry as JSON.

    Args:
        spec: The entry.

    Returns:
        Ids, dialects, tokenizer, limits, prices (USD per 1,000 tokens, as the catalog holds them), the Regions
        and inference profiles that serve the model, each value's evidence grade, and Converse features.
    """
    return {
        "model_id": spec.model_id,
        "name": spec.name,
        "aliases": list(spec.aliases),
        "dialects": [d.value for d in spec.dialects],
        "tokenizer": spec.tokenizer,
        "tokenizer_exact": spec.tokenizer_exact,
        "context_window": spec.context_window,
        "max_output": spec.max_output,
        "price_input_per_1k": spec.price_input,
        "price_output_per_1k": spec.price_output,
        "requires_profile": spec.requires_profile,
        "regions": sorted(spec.regions),
        "profiles": {geo: sorted(sources) for geo, sources in sorted(spec.profiles.items())},
        "evidence": dict(spec.evidence),
        "converse": {
            "system": spec.converse.system,
            "tools": spec.converse.tools,
            "tool_choice": sorted(spec.converse.tool_choice),
            "streaming_tools": spec.converse.streaming_tools,
            "documents": spec.converse.documents,
            "images": spec.converse.images,
            "audio": spec.converse.audio,
        },
        "released": spec.released,
    }


def _per_million(price_per_1k: float) -> str:
    return f"{price_per_1k * 1000:.2f}"


@click.command("models")
@json_option
def command(as_json: bool) -> None:
    """List the Mistral models on Bedrock: ids, aliases, dialects, tokenizer, context, max output, prices."""
    from ..catalog import all_models

    out = Output(as_json)
    models = all_models()
    out.emit([model_json(spec) for spec in models])
    if not out.rich:
        return
    from rich.table import Table

    table = Table(title="Mistral models on Amazon Bedrock", title_justify="left")
    table.add_column("Model id", no_wrap=True, style="bold")
    table.add_column("Aliases")
    table.add_column("Dialects")
    table.add_column("Tokenizer", no_wrap=True)
    table.add_column("Context", justify="right")
    table.add_column("Max out", justify="right")
    table.add_column("$/1M in", justify="right")
    table.add_column("$/1M out", justify="right")
    for spec in models:
        model_id = spec.model_id + (" (profile)" if spec.requires_profile else "")
        table.add_row(
            model_id,
            ", ".join(spec.aliases),
            ", ".join([*(d.value for d in spec.dialects), "converse"]),
            ("" if spec.tokenizer_exact else "~") + spec.tokenizer,
            f"{spec.context_window:,}",
            f"{spec.max_output:,}",
            _per_million(spec.price_input),
            _per_million(spec.price_output),
        )
    out.console.print(table)
    out.status("~ tokenizer: nearest shipped tokenizer (estimates). (profile): call through an inference profile.")
