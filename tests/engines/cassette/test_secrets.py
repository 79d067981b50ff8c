"""The cassette's secrets scanner: credentials found plain and in base64 at any alignment, AWS key ids and ARN account
ids by pattern, user patterns; redaction that keeps base64 valid, copies, repeats itself and leaves nothing behind;
and messages that never show a value."""

from __future__ import annotations

import base64
import copy
import json
import re
import string
from typing import Any

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from mistral_bedrock.engines.cassette.secrets import Finding, SecretScanner, SecretsFound

# AWS's documentation examples, and a session token of the real shape (base64 with "/" runs).
KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexampleTokenValue+AbC="
SCANNER = SecretScanner.for_credentials(KEY_ID, SECRET, TOKEN)
CREDENTIALS = [("access key id", KEY_ID), ("secret access key", SECRET), ("session token", TOKEN)]
ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.mistral.pixtral-large-2502-v1:0"
ZEROED_ARN = "arn:aws:bedrock:us-east-1:000000000000:inference-profile/us.mistral.pixtral-large-2502-v1:0"


def b64(data: str | bytes) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def kinds(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.kind, f.where, f.encoding) for f in findings}


@pytest.mark.parametrize(("kind", "value"), CREDENTIALS)
def test_each_credential_is_found_plain(kind: str, value: str) -> None:
    assert SCANNER.find({"message": f"signed with {value}, see"}) == [Finding(kind, "message", "plain")]


@pytest.mark.parametrize(("kind", "value"), CREDENTIALS)
def test_each_credential_is_found_base64_encoded_alone(kind: str, value: str) -> None:
    assert SCANNER.find({"chunk": {"bytes": b64(value)}}) == [Finding(kind, "chunk.bytes", "base64")]


@pytest.mark.parametrize("lead", [0, 1, 2])
@pytest.mark.parametrize(("kind", "value"), CREDENTIALS)
def test_a_credential_inside_a_longer_base64_blob_is_found_at_each_alignment(kind: str, value: str, lead: int) -> None:
    blob = b64(b"\xff\xfe"[:lead] + value.encode() + b"\xfd\xfc\xfb")
    assert SCANNER.find(blob) == [Finding(kind, "", "base64")]
    # Glued to a letter, the blob no longer decodes on its own: only the secret's base64 forms can find it.
    assert SCANNER.find(f"Z{blob}") == [Finding(kind, "", "base64")]
    assert SCANNER.find(f"Zy{blob}") == [Finding(kind, "", "base64")]


def test_each_finding_is_reported_once() -> None:
    text = f"{SECRET} {SECRET} {b64(SECRET)} Z{b64(b'1' + SECRET.encode())} Zq{b64(b'12' + SECRET.encode())}"
    assert SCANNER.find(text) == [Finding("secret access key", "", "base64"), Finding("secret access key", "", "plain")]


def test_a_credential_in_url_safe_base64_is_found_and_redacted_in_the_same_alphabet() -> None:
    blob = base64.urlsafe_b64encode(b"\xfb" + TOKEN.encode()).decode().rstrip("=")
    assert ("_" in blob or "-" in blob) and len(blob) % 4
    assert SCANNER.find([f"Z{blob}", f"Zy{blob}"]) == [
        Finding("session token", "[0]", "base64"),
        Finding("session token", "[1]", "base64"),
    ]
    cleaned, findings = SCANNER.redact({"t": blob})
    assert findings == [Finding("session token", "t", "base64")]
    assert not re.search("[+/=]", cleaned["t"])
    decoded = base64.urlsafe_b64decode(cleaned["t"] + "=" * (-len(cleaned["t"]) % 4))
    assert decoded == b"\xfbREDACTED-session-token"


def test_a_base64_string_whose_text_holds_an_aws_key_id_is_found() -> None:
    blob = b64(json.dumps({"outputText": "use AKIAZZZZZZZZZZZZZZZZ now"}))
    assert SecretScanner().find({"bytes": blob}) == [Finding("AWS access key id", "bytes", "base64")]


@pytest.mark.parametrize("key_id", ["AKIAZ3KLMN4OPQR5STUV", "ASIAY34FZKBOKMUTVV7A"])
def test_aws_key_ids_are_found_by_pattern(key_id: str) -> None:
    cleaned, findings = SecretScanner().redact(f"id={key_id}.")
    assert findings == [Finding("AWS access key id", "", "plain")]
    assert cleaned == "id=REDACTED-AWS-access-key-id."


@pytest.mark.parametrize(
    "lookalike",
    [
        "AKIAZ3KLMN4OPQR5STU",
        "AKIAZ3KLMN4OPQR5STUVW",
        "akiaz3klmn4opqr5stuv",
        "XASIAY34FZKBOKMUTVV7A",
        "AKIDZ3KLMN4OPQR5STUV",
    ],
)
def test_key_id_lookalikes_are_not_flagged(lookalike: str) -> None:
    assert SecretScanner().find(f"id {lookalike} here") == []


@pytest.mark.parametrize(
    ("arn", "zeroed"),
    [
        (ARN, ZEROED_ARN),
        ("arn:aws:iam::123456789012:role/Recorder", "arn:aws:iam::000000000000:role/Recorder"),
        ("arn:aws-us-gov:bedrock:us-gov-west-1:210987654321:x", "arn:aws-us-gov:bedrock:us-gov-west-1:000000000000:x"),
        # A request path: the model id percent-encoded.
        (
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fab12/converse",
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A000000000000%3Aapplication-inference-profile%2Fab12/converse",
        ),
    ],
)
def test_an_account_id_in_an_arn_is_zeroed_and_the_rest_kept(arn: str, zeroed: str) -> None:
    cleaned, findings = SecretScanner().redact({"request": {"model": arn}})
    assert cleaned == {"request": {"model": zeroed}}
    assert findings == [Finding("account id", "request.model", "plain")]


@pytest.mark.parametrize(
    "text", [ZEROED_ARN, "order 123456789012 shipped", "arn:aws:bedrock:us-east-1:1234567890123:x"]
)
def test_the_placeholder_account_and_twelve_digits_outside_an_arn_are_not_flagged(text: str) -> None:
    assert SecretScanner().find(text) == []
    assert SecretScanner().redact(text) == (text, [])


def test_dict_keys_are_scanned_and_a_secret_key_never_shows_in_a_path() -> None:
    data = {"headers": {KEY_ID: {"note": SECRET}}}
    cleaned, findings = SCANNER.redact(data)
    assert cleaned == {"headers": {"REDACTED-access-key-id": {"note": "REDACTED-secret-access-key"}}}
    assert findings == [
        Finding("access key id", "headers.REDACTED-access-key-id (key)", "plain"),
        Finding("secret access key", "headers.REDACTED-access-key-id.note", "plain"),
    ]


def test_nested_lists_are_walked_and_paths_say_where() -> None:
    data = {"events": [{"t_ms": 1.5}, {"payload": {"delta": {"text": ["ok", [7, None, f"x{SECRET}"]]}}}]}
    assert SCANNER.find(data, "response") == [
        Finding("secret access key", "response.events[1].payload.delta.text[1][2]", "plain")
    ]
    assert SCANNER.find((["a", ("b", TOKEN)],)) == [Finding("session token", "[0][1][1]", "plain")]


def sample() -> dict[str, Any]:
    return {
        "request": {
            "headers": {"authorization": f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20261130/us-east-1/bedrock"},
            "body": {"modelId": ARN, "messages": [{"content": [{"text": "plain words stay"}]}], "n": 3},
        },
        "response": {
            "status": 200,
            "events": [
                {"chunk": {"bytes": b64(json.dumps({"outputText": f"token {TOKEN} and {ARN}"}))}},
                {"payload": {"text": f"glued Zq{b64(b'12' + SECRET.encode())}"}},
                {"payload": {"other": "ASIAY34FZKBOKMUTVV7A", "ok": True, "none": None}},
            ],
        },
    }


def test_redact_returns_a_deep_copy_and_leaves_the_input_alone() -> None:
    data = sample()
    before = copy.deepcopy(data)
    cleaned, _ = SCANNER.redact(data)
    assert data == before
    assert cleaned["request"]["body"]["messages"] is not data["request"]["body"]["messages"]
    cleaned["request"]["body"]["messages"][0]["content"].append("more")
    assert data == before


def test_redaction_is_deterministic() -> None:
    first = SCANNER.redact(sample())
    assert SCANNER.redact(sample()) == first
    assert SecretScanner.for_credentials(KEY_ID, SECRET, TOKEN).redact(sample()) == first


def test_after_redaction_nothing_is_found_and_plain_words_stay() -> None:
    cleaned, findings = SCANNER.redact(sample())
    assert kinds(findings) == {
        ("access key id", "request.headers.authorization", "plain"),
        ("account id", "request.body.modelId", "plain"),
        ("session token", "response.events[0].chunk.bytes", "base64"),
        ("account id", "response.events[0].chunk.bytes", "base64"),
        ("secret access key", "response.events[1].payload.text", "base64"),
        ("AWS access key id", "response.events[2].payload.other", "plain"),
    }
    assert SCANNER.find(cleaned) == []
    assert cleaned["request"]["body"]["messages"] == [{"content": [{"text": "plain words stay"}]}]
    assert cleaned["request"]["body"]["modelId"] == ZEROED_ARN
    assert cleaned["response"]["status"] == 200


def test_a_redacted_base64_blob_still_decodes_and_holds_the_marker() -> None:
    cleaned, _ = SCANNER.redact(sample())
    blob = cleaned["response"]["events"][0]["chunk"]["bytes"]
    text = json.loads(base64.b64decode(blob, validate=True))["outputText"]
    assert text == f"token REDACTED-session-token and {ZEROED_ARN}"


def test_user_patterns_are_replaced_by_redacted() -> None:
    scanner = SecretScanner.for_credentials(None, None, None, patterns=[r"cust-\d{6}", "x*"])
    cleaned, findings = scanner.redact({"note": "for cust-123456 and cust-654321, not cust-12"})
    assert cleaned == {"note": "for REDACTED and REDACTED, not cust-12"}
    assert findings == [Finding("pattern", "note", "plain")]
    # A pattern that can match nothing inserts nothing.
    assert scanner.redact("abc") == ("abc", [])


def test_values_shorter_than_eight_characters_are_not_searched_for() -> None:
    short = SecretScanner(values=(("secret access key", "test123"),))
    assert short.find(["a test123 run", b64("test123")]) == []
    assert short.redact("a test123 run") == ("a test123 run", [])
    eight = SecretScanner(values=(("secret access key", "test1234"),))
    assert eight.find("a test1234 run") == [Finding("secret access key", "", "plain")]


def test_find_in_text_finds_plain_and_base64_forms_in_a_serialized_cassette() -> None:
    cassette = {
        "request": {"headers": {"x-amz-security-token": TOKEN}},
        "response": {"events": [{"chunk": {"bytes": b64(f'{{"key": "{SECRET}"}}')}}]},
    }
    text = yaml.safe_dump(cassette, width=float("inf"))
    assert kinds(SCANNER.find_in_text(text)) == {
        ("session token", "text", "plain"),
        ("secret access key", "text", "base64"),
    }
    assert SCANNER.find_in_text(yaml.safe_dump(SCANNER.redact(cassette)[0])) == []


def test_messages_never_show_a_value() -> None:
    _, findings = SCANNER.redact({KEY_ID: sample()})
    error = SecretsFound(findings)
    message = str(error)
    assert error.findings == findings
    assert isinstance(error, ValueError)
    assert "secret access key (base64) at REDACTED-access-key-id.response.events[1].payload.text" in message
    shown = message + repr(findings) + "".join(f.describe() for f in findings)
    for value in (KEY_ID, SECRET, TOKEN, "ASIAY34FZKBOKMUTVV7A", "123456789012", b64(SECRET)[:12]):
        assert value not in shown


AWS_ALPHABET = string.ascii_letters + string.digits + "+/"


@given(
    prefix=st.text(max_size=40),
    secret=st.text(AWS_ALPHABET, min_size=8, max_size=64),
    suffix=st.text(max_size=40),
    lead=st.sampled_from(["", "x", "xy", "xyz"]),
)
def test_base64_of_a_secret_in_any_text_is_always_found_and_redacted(
    prefix: str, secret: str, suffix: str, lead: str
) -> None:
    # Only "REDACTED" itself would survive its own marker.
    assume(secret != "REDACTED")
    scanner = SecretScanner(values=(("secret access key", secret),))
    blob = b64(prefix + secret + suffix)
    assert Finding("secret access key", "text", "base64") in scanner.find_in_text(f"bytes: {lead}{blob}\n")
    cleaned, findings = scanner.redact({"bytes": blob})
    assert Finding("secret access key", "bytes", "base64") in findings
    assert scanner.find(cleaned) == []
