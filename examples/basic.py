"""Basic completion with Mistral 7B: the request and response payloads, then the answer.

The first program of the classic "Mistral AI on Amazon Bedrock" walkthrough. One user message goes out in
Mistral's prompt format, ``<s>[INST] … [/INST]``; the client renders it, sends ``InvokeModel`` and parses the
``outputs``/``stop_reason`` response.

Run it (from the repository root)::

    python examples/basic.py            # Amazon Bedrock when AWS is configured, else the local runtime
    python examples/basic.py --local    # always the embedded local runtime, offline

It prints::

    request payload:
    {"prompt": "<s>[INST] Hello, what's your name? [/INST]"}
    response payload:
    {"outputs": [{"text": " …", "stop_reason": "stop"}]}
    response string:
    …
"""

from __future__ import annotations

import argparse
import json

from _backend import add_backend_flag, make_client

MODEL = "mistral-7b"  # mistral.mistral-7b-instruct-v0:2
MESSAGE = "Hello, what's your name?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_backend_flag(parser)
    args = parser.parse_args()

    with make_client(args.local) as client:
        result = client.complete_text(MESSAGE, model=MODEL)

    print("request payload:")
    print(json.dumps(result.request_body))
    print("response payload:")
    print(json.dumps(result.response_body))
    print("response string:")
    print(result.text.strip())


if __name__ == "__main__":
    main()
