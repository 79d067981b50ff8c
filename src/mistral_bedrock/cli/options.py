"""Options shared by the commands that call a model: the model and the inference parameters.

Values are passed through unchecked: the client validates them with the runtime's own code, so an out-of-range
value fails with Bedrock's ``ValidationException`` message. What is checked here, before anything starts, is
whether the request body a command sends can carry an option at all: one it cannot is refused as a usage error
naming the model and the option, rather than dropped or sent to fail on every call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click

from ..catalog import ModelSpec, lookup
from ..conversation import Params
from ..errors import ValidationException
from ..formats import Format
from .failures import UsageFailure

__all__ = ["catalog_entry", "inference_options", "model_option", "refuse_uncarried_params"]

F = TypeVar("F", bound=Callable[..., Any])


def model_option(default: str) -> Callable[[F], F]:
    """``--model/-m`` with a default.

    Args:
        default: The model id or alias used when the option is not given.

    Returns:
        The option decorator.
    """
    return click.option(
        "--model", "-m", default=default, show_default=True, help="Model id, alias, ARN or inference profile."
    )


def catalog_entry(model: str) -> ModelSpec | None:
    """The catalog's entry for a ``--model`` value, or None for one it does not know (the call reports that).

    Args:
        model: Model id, alias, ARN or inference profile.

    Returns:
        The model's spec, or None.
    """
    try:
        return lookup(model)
    except ValidationException:
        return None


def refuse_uncarried_params(params: Params, spec: ModelSpec, fmt: Format) -> None:
    """Refuse, before anything is sent, the options a body of ``fmt`` for ``spec`` has no field for.

    Args:
        params: The inference options given.
        spec: The model the command calls.
        fmt: The format of the body the command sends it.

    Raises:
        UsageFailure: Naming the model and the options, when a set option cannot be carried.
    """
    # What each body carries is the format's to say (Mistral's chat body has neither stop nor top_k, the
    # OpenAI-style one no top_k); sending the option anyway would only fail every call.
    given = {"--top-k": params.top_k is not None, "--stop": bool(params.stop)}
    carried = fmt.carries(spec)
    refused = [flag for flag, set_ in given.items() if set_ and flag[2:].replace("-", "_") not in carried]
    if refused:
        fields = " or ".join(flag[2:].replace("-", "_") for flag in refused)
        raise UsageFailure(
            f"{spec.model_id} ({spec.name}) cannot take {' and '.join(refused)}: its {fmt.dialect.value} request "
            f"body has no {fields} parameter"
        )


_OPTIONS = (
    click.option("--max-tokens", type=int, metavar="N", help="Most tokens to generate."),
    click.option("--temperature", type=float, metavar="T", help="Sampling temperature."),
    click.option("--top-p", type=float, metavar="P", help="Nucleus sampling mass."),
    click.option("--top-k", type=int, metavar="K", help="Sample from the K most likely tokens."),
    click.option("--stop", multiple=True, metavar="TEXT", help="Stop sequence (repeatable)."),
)


def inference_options(func: F) -> F:
    """Add the inference options; the command receives them as one ``params: Params`` argument.

    Args:
        func: The command function.

    Returns:
        The decorated function.
    """

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        max_tokens: int | None,
        temperature: float | None,
        top_p: float | None,
        top_k: int | None,
        stop: tuple[str, ...],
        **kwargs: Any,
    ) -> Any:
        params = Params(max_tokens, temperature, top_p, top_k, tuple(stop) or None)
        return func(*args, params=params, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return cast(F, decorated)
