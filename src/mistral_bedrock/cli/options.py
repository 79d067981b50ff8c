"""Options shared by the commands that call a model: the model and the inference parameters.

Parameters are passed through unchecked: the client validates them with the runtime's own code, so an
out-of-range value fails with Bedrock's ``ValidationException`` message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import click

__all__ = ["InferenceParams", "inference_options", "model_option"]

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


@dataclass(frozen=True)
class InferenceParams:
    """Inference parameters; None means "not sent", so the model's default applies.

    Attributes:
        max_tokens: ``--max-tokens``.
        temperature: ``--temperature``.
        top_p: ``--top-p``.
        top_k: ``--top-k``.
        stop: ``--stop`` (repeatable).
    """

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()

    def kwargs(self, *, top_k: bool = True, stop: bool = True) -> dict[str, Any]:
        """The parameters that were given, as keyword arguments for a client method.

        Args:
            top_k: Include ``top_k`` (the chat dialect has no such parameter).
            stop: Include ``stop`` (nor this one).

        Returns:
            Only the parameters that were set.
        """
        values: dict[str, Any] = {
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": self.top_k if top_k else None,
            "stop": list(self.stop) if stop and self.stop else None,
        }
        return {key: value for key, value in values.items() if value is not None}

    @property
    def chat_only_unsupported(self) -> list[str]:
        """The options set that Mistral's chat dialect does not take."""
        return [name for name, value in (("--top-k", self.top_k), ("--stop", self.stop)) if value]


_OPTIONS = (
    click.option("--max-tokens", type=int, metavar="N", help="Most tokens to generate."),
    click.option("--temperature", type=float, metavar="T", help="Sampling temperature."),
    click.option("--top-p", type=float, metavar="P", help="Nucleus sampling mass."),
    click.option("--top-k", type=int, metavar="K", help="Sample from the K most likely tokens."),
    click.option("--stop", multiple=True, metavar="TEXT", help="Stop sequence (repeatable)."),
)


def inference_options(func: F) -> F:
    """Add the inference options; the command receives them as one ``params: InferenceParams`` argument.

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
        params = InferenceParams(max_tokens, temperature, top_p, top_k, tuple(stop))
        return func(*args, params=params, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return cast(F, decorated)
