"""``serve``'s shared state, as a user runs it: rules and journal shared by the workers, dropped connections under
granian, the control plane under strict auth, a state directory that outlives a restart, bad fault flags.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from mistral_bedrock.protocol.eventstream import EventStreamDecoder
from tests.interop.interop_support import ServeProcess, free_port, nothing_listens, run_serve
from tests.raw_http import stream_exchange as raw_stream_exchange

TEXT_MODEL = "mistral.mistral-7b-instruct-v0:2"
CONTROL = "/_mistral_bedrock"
BEARER = {"Authorization": "Bearer test"}
HELLO = json.dumps({"prompt": "<s>[INST] Hello [/INST]"}).encode()


def invoke_once(url: str) -> int:
    """One InvokeModel on a connection of its own, so that requests spread over the workers."""
    with httpx.Client(timeout=60) as http:
        return http.post(f"{url}/model/{TEXT_MODEL}/invoke", content=HELLO, headers=BEARER).status_code


def state_dirs(tmp: Path) -> list[Path]:
    return sorted(tmp.glob("mistral-bedrock-state-*"))


def test_workers_share_counts_and_the_journal(
    serve_cli: Callable[..., ServeProcess], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where serve makes its temporary state directory
    server = serve_cli("--workers", "2")
    assert len(state_dirs(tmp_path)) == 1
    with httpx.Client(base_url=server.url + CONTROL, headers=BEARER, timeout=30) as control:
        control.post("/faults", json={"kind": "error", "code": "ThrottlingException", "count": 3}).raise_for_status()
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(invoke_once, [server.url] * 10))
        assert sorted(statuses) == [200] * 7 + [429] * 3, statuses
        entries = control.get("/requests").json()["requests"]
        (rule,) = control.get("/faults").json()["faults"]
    assert len(entries) == 10
    throttled = [e for e in entries if e["status"] == 429]
    assert [e["faults"] for e in throttled] == [[{"kind": "error", "code": "ThrottlingException"}]] * 3
    assert (rule["fired"], rule["remaining"], rule["active"]) == (3, 0, False)
    assert server.stop() == 0, server.stderr
    assert state_dirs(tmp_path) == [], "the temporary state directory outlived serve"


def stream_exchange(url: str, headers: dict[str, str]) -> tuple[int, bool, int]:
    """One InvokeModelWithResponseStream over HTTP/1.1, read until the server closes the connection."""
    return raw_stream_exchange(url, f"/model/{TEXT_MODEL}/invoke-with-response-stream", HELLO, headers)


def sigv4(method: str, url: str, body: bytes = b"") -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials("AKIDSERVE", "serve-secret"), "bedrock", "eu-west-1").add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("after_frames", [0, 2])
def test_drop_cuts_the_connection_under_granian_and_strict_auth_guards_the_rules(
    serve_cli: Callable[..., ServeProcess], after_frames: int
) -> None:
    server = serve_cli("--auth", "strict:AKIDSERVE:serve-secret;token=ABSKc2VydmUta2V5")
    faults = f"{server.url}{CONTROL}/faults"
    rule = json.dumps({"kind": "drop", "after_frames": after_frames, "count": 1}).encode()
    assert httpx.post(faults, content=rule, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert httpx.post(faults, content=rule).status_code == 403
    added = httpx.post(faults, content=rule, headers=sigv4("POST", faults, rule))
    assert added.status_code == 200, added.text
    key = {"Authorization": "Bearer ABSKc2VydmUta2V5"}
    # Never a plain-text 500: the headers, `after_frames` event frames, and the connection cut.
    assert stream_exchange(server.url, key) == (200, False, after_frames)
    requests = f"{server.url}{CONTROL}/requests"
    (entry,) = httpx.get(requests, headers=sigv4("GET", requests)).json()["requests"]
    assert (entry["status"], entry["faults"]) == (200, [{"kind": "drop", "after_frames": after_frames}])
    status, complete, events = stream_exchange(server.url, key)  # count=1: the next one is whole
    assert (status, complete) == (200, True) and events > after_frames


# Node's own HTTP/2 client (no npm package): per `after_frames`, a drop rule, then two streams on one h2c session.
H2_CLIENT = r"""
const http2 = require("http2");
const [url, afterFramesList] = [process.argv[1], JSON.parse(process.argv[2])];
const session = http2.connect(url);
session.on("error", () => {});
function post(path, body) {
  return new Promise((resolve) => {
    const req = session.request({":method": "POST", ":path": path, "authorization": "Bearer test",
                                 "content-type": "application/json"});
    let status = 0, data = Buffer.alloc(0), done = false;
    const finish = (ended) => { if (!done) { done = true; resolve({status, ended, data: data.toString("base64")}); } };
    req.on("response", (headers) => { status = headers[":status"]; });
    req.on("data", (chunk) => { data = Buffer.concat([data, chunk]); });
    req.on("end", () => finish("clean"));
    req.on("error", () => finish("reset"));
    req.on("close", () => finish("reset"));
    req.end(body);
  });
}
(async () => {
  const out = [];
  for (const after_frames of afterFramesList) {
    await post("/_mistral_bedrock/faults", JSON.stringify({kind: "drop", after_frames, count: 1}));
    for (let i = 0; i < 2; i++) {
      out.push(await post("/model/mistral.mistral-7b-instruct-v0:2/invoke-with-response-stream", process.argv[3]));
    }
  }
  session.close();
  console.log(JSON.stringify(out));
})();
"""


def test_drop_resets_the_stream_over_http2(serve_cli: Callable[..., ServeProcess]) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH: the interop tests need Node.js 18+")
    server = serve_cli()
    result = subprocess.run(
        [node, "-e", H2_CLIENT, server.url, "[0, 2]", HELLO.decode()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    seen = [
        (reply["status"], reply["ended"], len(EventStreamDecoder().feed(base64.b64decode(reply["data"]))))
        for reply in json.loads(result.stdout)
    ]
    (dropped_at_0, whole, dropped_at_2, whole_again) = seen
    assert dropped_at_0 == (200, "reset", 0)
    assert dropped_at_2 == (200, "reset", 2)
    assert whole[:2] == whole_again[:2] == (200, "clean") and whole[2] > 2


def test_a_state_directory_keeps_the_journal_across_restarts(
    serve_cli: Callable[..., ServeProcess], tmp_path: Path
) -> None:
    state = tmp_path / "state"
    first = serve_cli("--state-dir", str(state), "--fault", "throttle:count=1")
    # Health stays open for probes; the rest wants credentials even under the default lenient auth.
    assert httpx.get(f"{first.url}{CONTROL}/health").json() == {"status": "ok", "engine": "builtin"}
    assert httpx.get(f"{first.url}{CONTROL}/requests").status_code == 403
    assert invoke_once(first.url) == 429
    assert invoke_once(first.url) == 200
    assert first.stop() == 0, first.stderr
    second = serve_cli("--state-dir", str(state), "--fault", "throttle:count=1")
    assert invoke_once(second.url) == 429  # the rules start afresh from the flags
    with httpx.Client(base_url=second.url + CONTROL, headers=BEARER) as control:
        statuses = [entry["status"] for entry in control.get("/requests").json()["requests"]]
    assert statuses == [429, 200, 429]
    assert second.stop() == 0, second.stderr
    assert (state / "runtime.sqlite3").exists()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("throttle:count=x", 'count must be a non-negative integer, got "x"'),
        ("drop:after_frames=-1", "after_frames must be a non-negative integer, got -1"),
        ("throttle:operation=Nope", "operation must be one of InvokeModel"),
    ],
)
def test_a_bad_fault_flag_is_one_line_and_exit_2(spec: str, words: str) -> None:
    port = free_port()
    result = run_serve("--port", str(port), "--fault", spec)
    assert result.returncode == 2, result
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: fault {spec!r}: ") and words in line, line
    assert nothing_listens(port)
