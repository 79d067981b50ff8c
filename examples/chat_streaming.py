"""Streaming chat with Mistral Large (24.02): answers appear token by token, and the history is kept.

The third program of the classic walkthrough, using ``InvokeModelWithResponseStream`` in Mistral's chat dialect
(``messages`` in, ``choices`` chunks out). Each line you type is a user turn; the answer is printed as its pieces
arrive, and joins the history once the stream has completed. End with Ctrl-D (end of input).

Run it (from the repository root)::

    python examples/chat_streaming.py [--local]
    printf 'Hi!\\nAnd again?\\n' | python examples/chat_streaming.py --local

For each line it prints::

    [Assistant]: …the answer, streamed…
"""

from __future__ import annotations

import argparse
import sys

from _backend import add_backend_flag, make_client

from mistral_bedrock.errors import MistralBedrockError

MODEL = "mistral-large-2402"  # mistral.mistral-large-2402-v1:0, chat dialect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backend_flag(parser)
    args = parser.parse_args()

    with make_client(args.local) as client:
        chat = client.conversation(model=MODEL)
        while True:
            print("\nEnter your message: ", end="", flush=True)
            line = sys.stdin.readline()
            if not line:  # end of input
                print()
                break
            message = line.strip()
            if not message:
                continue
            print("[Assistant]: ", end="", flush=True)
            try:
                with chat.stream(message) as stream:
                    for piece in stream.text_stream():
                        print(piece, end="", flush=True)
            except MistralBedrockError as exc:  # a broken stream leaves the history as it was
                print(f"\n[Error]: {exc}", file=sys.stderr)
                continue
            print()


if __name__ == "__main__":
    main()
