"""A raw HTTP/1.1 exchange for tests that must see how a response ended: cleanly, or cut mid-body.

HTTP clients hide a cut connection behind retries or a generic error; reading the socket directly shows whether
the chunked body's last, empty chunk arrived and how many whole event-stream messages came before the cut.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from mistral_bedrock.protocol.eventstream import EventStreamDecoder

__all__ = ["stream_exchange"]


def stream_exchange(url: str, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bool, int]:
    """POST ``body`` to ``path`` on its own connection and read until the server closes it.

    Returns:
        The status, whether the chunked body ended cleanly (its last, empty chunk arrived), and how many whole
        event-stream messages it carried.
    """
    parts = urlsplit(url)
    head_lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    received = b""
    with socket.create_connection((parts.hostname, parts.port), timeout=60) as conn:
        conn.sendall(("\r\n".join(head_lines) + "\r\n\r\n").encode() + body)
        while chunk := conn.recv(65536):
            received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    data, complete = b"", False
    while b"\r\n" in rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            complete = True
            break
        if len(rest) < size + 2:
            break
        data, rest = data + rest[:size], rest[size + 2 :]
    return status, complete, len(EventStreamDecoder().feed(data))
