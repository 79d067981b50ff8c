"""``batch build``, ``validate`` and ``estimate`` on real files, through the real ``mistral-bedrock`` entry point.

Nothing here talks to a server: these commands read the records file and the catalog. Where a figure can be
checked independently it is: a record that validation passes is one the runtime answers (``batch run`` over the
same file writes no error line), and the exact input tokens ``estimate`` reports equal the sum of what the ``tokens``
command counts for each body.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.cli_support import ok, run_cli

MODEL = "mistral.ministral-3-8b-instruct"  # batch-capable per the catalog (Price List rows)
UNVERIFIED = "mistral.mistral-7b-instruct-v0:2"  # batch support not verified: no batch price


def _chat(index: int, **extra: object) -> str:
    body = {"messages": [{"role": "user", "content": f"Question {index}?"}], "max_tokens": 16, **extra}
    return json.dumps({"recordId": f"q{index:03d}", "modelInput": body})


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_build_then_validate_round_trips_for_both_invocation_types(tmp_path: Path) -> None:
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("".join(f"Name a colour, number {i}.\n" for i in range(120)), encoding="utf-8")
    for model, flags in ((MODEL, ()), (MODEL, ("--converse",)), (UNVERIFIED, ())):
        out = tmp_path / f"records-{len(flags)}-{model[:12]}.jsonl"
        built = ok(
            run_cli("batch", "build", str(prompts), "-m", model, *flags, "--max-tokens", "32", "--out", str(out))
        )
        assert built.stdout.strip() == f"wrote 120 records to {out}"
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["recordId"] for r in records] == [f"r{i:011d}" for i in range(120)]
        checked = run_cli("batch", "validate", str(out), "-m", model, *flags)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert f"{out}: 120 records, 0 errors" in checked.stdout
    converse = json.loads((tmp_path / f"records-1-{MODEL[:12]}.jsonl").read_text().splitlines()[0])["modelInput"]
    assert converse["messages"][0]["content"] == [{"text": "Name a colour, number 0."}]
    assert converse["inferenceConfig"] == {"maxTokens": 32}
    native_7b = json.loads((tmp_path / f"records-0-{UNVERIFIED[:12]}.jsonl").read_text().splitlines()[0])
    assert native_7b["modelInput"] == {"prompt": "<s>[INST] Name a colour, number 0. [/INST]", "max_tokens": 32}


def test_build_refuses_what_the_body_cannot_carry_and_leaves_no_file(tmp_path: Path) -> None:
    prompts = _write(tmp_path / "p.txt", ["hello"])
    refused = run_cli("batch", "build", str(prompts), "-m", MODEL, "--top-k", "5")
    assert refused.returncode == 2
    assert refused.stderr.startswith("Error: ") and "top_k" in refused.stderr and "Traceback" not in refused.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.txt"]


def test_validate_reports_each_problem_at_its_line_and_exits_1(tmp_path: Path) -> None:
    lines = [_chat(i) for i in range(100)]
    lines[4] = "{not json"
    lines[9] = _chat(8)  # the id of line 9 again
    lines[20] = _chat(20, temperature="hot")
    lines.insert(3, "")  # a blank line: no record, but it moves every later line down one
    path = _write(tmp_path / "in.jsonl", lines)
    checked = run_cli("batch", "validate", str(path), "-m", MODEL)
    assert checked.returncode == 1
    assert "Traceback" not in checked.stderr
    out = checked.stdout.splitlines()
    assert out[0].startswith(f"{path}:6: not valid JSON")
    assert out[1] == f"{path}:11: q008: recordId 'q008' is used by an earlier record"
    assert out[2].startswith(f"{path}:22: q020: Malformed input request: #/temperature: expected type: Number")
    assert out[3:] == [f"{path}: 100 records, 3 errors, 0 warnings"]


def test_validate_under_the_floor_is_an_error_unless_on_demand(tmp_path: Path) -> None:
    path = _write(tmp_path / "few.jsonl", [_chat(i) for i in range(5)])
    floor = run_cli("batch", "validate", str(path), "-m", MODEL)
    assert floor.returncode == 1
    assert "5 records: a Bedrock batch job needs at least 100" in floor.stdout
    assert "mistral-bedrock batch run" in floor.stdout
    on_demand = ok(run_cli("batch", "validate", str(path), "-m", MODEL, "--on-demand"))
    assert f"{path}: 5 records, 0 errors" in on_demand.stdout


def test_validate_refuses_an_unknown_model_in_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "in.jsonl", [_chat(0)])
    refused = run_cli("batch", "validate", str(path), "-m", "no-such-model")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "Error: ValidationException: The provided model identifier is invalid."


def test_estimate_counts_input_tokens_exactly_and_prices_batch_only_where_known(tmp_path: Path) -> None:
    path = _write(tmp_path / "in.jsonl", [_chat(i) for i in range(120)])
    known = json.loads(ok(run_cli("batch", "estimate", str(path), "-m", MODEL, "--json")).stdout)
    # The oracle: the runtime's own usage for the same records, summed in the manifest of a local run.
    ok(run_cli("batch", "run", str(path), "-m", MODEL, "--local"))
    manifest = json.loads((tmp_path / "in.out" / "manifest.json.out").read_text())
    assert (known["exact"], known["records"]) == (True, 120)
    assert known["input_tokens"] == manifest["inputTokenCount"]
    assert known["output_tokens_max"] == 120 * 16 >= manifest["outputTokenCount"]
    assert known["batch_cost"] is not None and known["batch_cost"] < known["on_demand_cost"]
    text = ok(run_cli("batch", "estimate", str(path), "-m", UNVERIFIED)).stdout
    batch_row = next(line for line in text.splitlines() if line.startswith("batch"))
    assert "unknown" in batch_row and "not guessed" in batch_row and "$" not in batch_row
