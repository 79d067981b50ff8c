"""Where an upstream model server is and what it speaks: ``http(s)://HOST:PORT[/PATH][#KIND[=MODEL]]``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

__all__ = ["KINDS", "UpstreamTarget", "parse_upstream_url"]

#: The servers this backend speaks to, as named after ``#`` in its URL.
KINDS: tuple[str, ...] = ("vllm", "llama-server", "ollama")


@dataclass(frozen=True)
class UpstreamTarget:
    """Where an upstream server is, and what it speaks.

    Attributes:
        base_url: ``scheme://host:port[/path]``, without a trailing ``/`` or the fragment.
        kind: One of :data:`KINDS`.
        model: The model to ask for: required for Ollama (``#ollama=NAME``); optional for vLLM (``#vllm=NAME``,
            sent as ``model`` when given: a vLLM serving several models needs it); unused by llama-server.
    """

    base_url: str
    kind: str
    model: str | None = None

    @property
    def text_mode(self) -> bool:
        """The server takes and returns text, not ids (Ollama)."""
        return self.kind == "ollama"

    def __str__(self) -> str:
        suffix = self.kind if self.model is None else f"{self.kind}={self.model}"
        return f"{self.base_url}#{suffix}"


def parse_upstream_url(url: str) -> UpstreamTarget:
    """Read ``http(s)://HOST:PORT[/PATH][#KIND[=MODEL]]``; KIND defaults to ``vllm``.

    Raises:
        ValueError: For another scheme, a missing host, a bad port, an unknown KIND, or ``#ollama`` without a model.
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"Upstream URL {url!r}: expected http(s)://HOST:PORT[#{'|'.join(KINDS)}]")
    try:
        parts.port  # noqa: B018  (reading it checks it: a port past 65535 or not a number raises here)
    except ValueError:
        raise ValueError(f"Upstream URL {url!r}: the port must be a number from 1 to 65535") from None
    kind, _, model = parts.fragment.partition("=")
    kind = kind or "vllm"
    if kind not in KINDS:
        raise ValueError(f"Upstream URL {url!r}: unknown server kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "llama-server" and model:
        raise ValueError(f"Upstream URL {url!r}: llama-server serves one model; drop '={model}'")
    if kind == "ollama" and not model:
        raise ValueError(f"Upstream URL {url!r}: Ollama needs the model's name, as #ollama=NAME")
    base = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    return UpstreamTarget(base, kind, model or None)
