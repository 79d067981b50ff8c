"""``freeze_gc``: after a tokenizer loads, a dedicated runtime process moves its heap out of the collector's reach.

Run in a child process: freezing is process-wide, and the test process must not be affected.
"""

from __future__ import annotations

import json
import subprocess
import sys

CHILD = """
import gc, json, httpx
from mistral_bedrock.runtime import RuntimeConfig, ServerThread, create_app
with ServerThread(create_app(RuntimeConfig(freeze_gc={freeze}))) as server:
    before = gc.get_freeze_count()
    reply = httpx.post(server.url + "/model/mistral.mistral-7b-instruct-v0:2/invoke", content=b'{{"prompt": "hi"}}',
                       headers={{"Authorization": "Bearer t"}})
    assert reply.status_code == 200, reply.text
    print(json.dumps([before, gc.get_freeze_count()]))
"""


def frozen(freeze: bool) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD.format(freeze=freeze)], check=True, capture_output=True, text=True, timeout=120
    )
    counts: list[int] = json.loads(out.stdout)
    return counts


def test_freeze_after_the_first_tokenizer_loads() -> None:
    before, after = frozen(True)
    assert before == 0
    assert after > 10_000  # the tokenizer's object graph, and everything loaded with it


def test_embedded_runtimes_never_freeze_their_host() -> None:
    assert frozen(False) == [0, 0]
