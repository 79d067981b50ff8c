"""Multi-turn chat with Mixtral 8x7B, a text-completion model: the history goes out as one prompt.

The second program of the classic walkthrough. Each line you type is a user turn; the whole conversation is
sent every time, rendered in Mistral's format: ``<s>`` once at the start, ``[INST] … [/INST]`` around each user
turn, and ``</s>`` after each answer. ``--verbose`` prints the exact prompt of every request, so you can watch it
grow. End with Ctrl-D (end of input).

Run it (from the repository root)::

    python examples/chat.py [--verbose] [--local]
    printf 'Hi!\\nWhat did I just say?\\n' | python examples/chat.py --verbose --local

For each line it prints::

    [Prompt]: <s>[INST] Hi! [/INST]        (with --verbose)
    [Assistant]: …
"""

from __future__ import annotations

import argparse
import sys

from _backend import add_backend_flag, make_client

from mistral_bedrock.errors import MistralBedrockError

MODEL = "mixtral-8x7b"  # mistral.mixtral-8x7b-instruct-v0:1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print the exact prompt sent each turn")
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
            try:
                result = chat.send(message)
            except MistralBedrockError as exc:  # a failed turn leaves the history as it was
                print(f"[Error]: {exc}", file=sys.stderr)
                continue
            if args.verbose:
                print("[Prompt]:", chat.last_prompt)
            print("[Assistant]:", result.text.strip())


if __name__ == "__main__":
    main()
