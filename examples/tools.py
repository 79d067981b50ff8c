"""Tool use with Mistral Large: the model calls ``top_song``, we run it, the model answers with its result.

The ``top_song`` example of Bedrock's Mistral chat-completion documentation. The request carries a tool
definition; the model answers with a tool call (``stop_reason`` ``tool_calls``) whose arguments name a radio
station's call sign; we run the function and send its result back as a ``tool`` turn; the model then answers
in text. The loop is written out to show every step; ``client.run_tools(...)`` does the same for you.

``--api chat`` (the default) uses Mistral's chat dialect on Mistral Large 24.02 (``InvokeModel`` with
``messages``/``tools``/``tool_choice``); ``--api converse`` uses the Converse API on Mistral Large 24.02.
``--tool-choice`` is ``any`` by default (the model must call a tool), or ``auto`` (it decides) or ``none`` (it
must answer in text). The follow-up request after a tool result never forces a tool.

Run it (from the repository root)::

    python examples/tools.py [--api chat|converse] [--tool-choice auto|any|none] [--verbose] [--local]

It prints::

    [User]: What is the most popular song on WZPZ?
    [Tool call]: top_song {"sign": "WZPZ"} (id …)
    [Tool result]: {"song": "Elemental Hotel", "artist": "8 Storey Hike"}
    [Assistant]: …

With ``--local``, the built-in engine calls a tool under ``auto`` only when the message names it, as in
``--message "What is the top song on WZPZ?"``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from _backend import add_backend_flag, make_client

from mistral_bedrock.client import MistralBedrock, Result
from mistral_bedrock.conversation import Message

MODELS = {
    "chat": "mistral-large-2402",  # mistral.mistral-large-2402-v1:0, Mistral's chat dialect
    "converse": "mistral-large-2402",  # mistral.mistral-large-2402-v1:0, the Converse API
}
MESSAGE = "What is the most popular song on WZPZ?"
MAX_STEPS = 5

# The tool definition, exactly as Bedrock's documentation gives it (Mistral's chat shape).
TOP_SONG_TOOL = {
    "type": "function",
    "function": {
        "name": "top_song",
        "description": "Get the most popular song played on a radio station.",
        "parameters": {
            "type": "object",
            "properties": {
                "sign": {
                    "type": "string",
                    "description": "The call sign for the radio station for which you want the most popular song. "
                    "Example calls signs are WZPZ and WKRP.",
                }
            },
            "required": ["sign"],
        },
    },
}


def top_song(sign: str) -> dict[str, str]:
    """The tool itself: the most popular song on a radio station."""
    if sign.upper() == "WZPZ":
        return {"song": "Elemental Hotel", "artist": "8 Storey Hike"}
    return {"error": f"station {sign} not found"}


FUNCTIONS: dict[str, Callable[..., Any]] = {"top_song": top_song}


def ask(
    client: MistralBedrock, api: str, messages: Sequence[Message], tool_choice: str | None, verbose: bool
) -> Result:
    if api == "converse":
        result = client.converse(messages, model=MODELS[api], tools=[TOP_SONG_TOOL], tool_choice=tool_choice)
    else:
        result = client.complete_chat(messages, model=MODELS[api], tools=[TOP_SONG_TOOL], tool_choice=tool_choice)
    if verbose:
        print("[Request body]:", json.dumps(result.request_body))
        print("[Response body]:", json.dumps(result.response_body))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", choices=sorted(MODELS), default="chat", help="chat dialect or Converse API")
    parser.add_argument("--tool-choice", choices=["auto", "any", "none"], default="any")
    parser.add_argument("--message", default=MESSAGE, help="the user's question")
    parser.add_argument("--verbose", action="store_true", help="print each request and response body")
    add_backend_flag(parser)
    args = parser.parse_args()

    messages = [Message.user(args.message)]
    print("[User]:", args.message)
    with make_client(args.local) as client:
        result = ask(client, args.api, messages, args.tool_choice, args.verbose)
        for _ in range(MAX_STEPS):
            if result.stop_reason != "tool_calls":
                break
            messages.append(result.message)  # the assistant turn with its tool calls
            for call in result.tool_calls:
                print(f"[Tool call]: {call.name} {call.arguments_json} (id {call.id})")
                function = FUNCTIONS.get(call.name)
                output = function(**call.arguments) if function else {"error": f"unknown tool {call.name}"}
                content = json.dumps(output)
                print("[Tool result]:", content)
                messages.append(Message.tool(call.id, content, name=call.name))
            # "any" would force another call; after a tool result the model should be free to answer.
            choice = None if args.tool_choice == "any" else args.tool_choice
            result = ask(client, args.api, messages, choice, args.verbose)
    print("[Assistant]:", result.text.strip())


if __name__ == "__main__":
    main()
