"""The cassette's secrets scanner: credentials found plain and in base64 at any alignment, AWS key ids and ARN account
ids by pattern, user patterns; redaction that keeps base64 valid, copies, repeats itself and leaves nothing behind;
and messages that never show a value."""

from __future__ import annotations

import base64
import copy
import json
import re
import string
import urllib.parse
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
    assert cleaned == {"headers": {"REDACTED-AWS-access-key-id": {"note": "REDACTED-secret-access-key"}}}
    assert findings == [
        Finding("access key id", "headers.REDACTED-AWS-access-key-id (key)", "plain"),
        Finding("secret access key", "headers.REDACTED-AWS-access-key-id.note", "plain"),
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
    assert "secret access key (base64) at REDACTED-AWS-access-key-id.response.events[1].payload.text" in message
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


# -- encoded forms ---------------------------------------------------------------------------------------------------

# The hostile tester's credentials (fake, of the real shapes: a 767-character session token) and the forms it planted.
H_KEY_ID = "AKIAZ7QW3RT5HXK2LMNP"
H_SECRET = "wJa7rXUtnFEMI/K7MDENG/bPxRfiCYq9Zk3vT2Lb"
H_TOKEN = "IQoJb3JpZ2luX2VjEHQaCXVzLXdlc3QtMiJHMEUCIQDx7kP9s/Tq2Zr+8vWm3Lq0aYb5cN1dE6fG7hI8jK9lMAIgR2sT3uV4wX5yZ6aB7cD8eF9gH0iJ1kL2mN3oP4qR5sUqmQMIjf//////////ARAAGgw4NTkxMjM0NTY3ODkiDP3q1w2e3r4t5y6u7i8o9pAp1aS2dF3gH4jK5lZ6xC7vB8nM9qW0eR1tY2uI3oP4aS5dF6gH7jK8lZ9xC0vB1nM2qW3eR4tY5uI6oP7aS8dF9gH0jK1lZ2xC3vB4nM5qW6eR7tY8uI9oP0aS1dF2gH3jK4lZ5xC6vB7nM8qW9eR0tY1uI2oP3aS4dF5gH6jK7lZ8xC9vB0nM1qW2eR3tY4uI5oP6aS7dF8gH9jK0lZ1xC2vB3nM4qW5eR6tY7uI8oP9aS0dF1gH2jK3lZ4xC5vB6nM7qW8eR9tY0uI1oP2aS3dF4gH5jK6lZ7xC8vB9nM0qW1eR2tY3uI4oP5aS6dF7gH8jK9lZ0xC1vB2nM3qW4eR5tY6uI7oP8aS9dF0gH1jK2lZ3xC4vB5nM6qW7eR8tY9uI0oP1aS2dF3gH4jK5lZ6xC7vB8nM9qW0eR1tY2uI3oP4aS5dF6gH7jK8lZ9xC0vB1nM2qW3eR4tY5uI6oP7aS8dF9gH0jK1lZ2xC3vB4nM5qW6eR7tY8uI9oP0aS1dF2gH3jK4lZ5xC6vB7nM8qW9eR0tY1uI2oP3aS4dF5gH6jK7lZ8xC9vB0n=="
H_ACCOUNT = "859123456789"
HOSTILE = SecretScanner.for_credentials(H_KEY_ID, H_SECRET, H_TOKEN)
HOSTILE_VALUES = (H_KEY_ID, H_SECRET, H_TOKEN)


def assert_gone(text: str) -> None:
    """No credential is left in ``text``, in any form the scanner reads, nor in what a tester decodes line by line."""
    assert HOSTILE.find(text) == []
    squashed = re.sub(r"\s+", "", text)
    # Each run of base64 decoded from each of its first four characters, as leakscan.py does.
    runs = [run[skip:] for run in re.findall(r"[A-Za-z0-9+/]{4,}", text) for skip in range(4)]
    decoded = b"|".join(base64.b64decode(run[: len(run) - len(run) % 4]) for run in runs)
    for value in HOSTILE_VALUES:
        assert value not in squashed and value.lower() not in squashed.lower()
        # Not a long piece either: 24 characters of a secret are enough to narrow it down.
        assert not any(value[i : i + 24].encode() in decoded for i in range(len(value) - 23))


def mime(data: bytes, width: int = 76, newline: str = "\n") -> str:
    encoded = base64.b64encode(data).decode()
    return newline.join(encoded[i : i + width] for i in range(0, len(encoded), width)) + newline


def test_the_hostile_mime_blob_that_straddles_line_breaks_is_found_and_redacted_in_place() -> None:
    # sec_mime_straddle.py: the secret and the token each straddle a line break of base64.encodebytes (76 columns).
    blob = base64.encodebytes(
        b"aws credentials backup: " + b"x" * 16 + H_SECRET.encode() + b"\n" + H_TOKEN.encode()
    ).decode()
    text = "Decode this:\n" + blob
    assert kinds(HOSTILE.find(text)) == {
        ("secret access key", "", "line-wrapped base64"),
        ("session token", "", "line-wrapped base64"),
    }
    cleaned, _ = HOSTILE.redact(text)
    assert_gone(cleaned)
    assert cleaned.startswith("Decode this:\n")
    # The blob is one line now, and still base64 of the redacted text.
    assert base64.b64decode(cleaned.split("\n")[1], validate=True) == (
        b"aws credentials backup: " + b"x" * 16 + b"REDACTED-secret-access-key\nREDACTED-session-token"
    )


@pytest.mark.parametrize("width", [76, 64])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_line_wrapped_base64_is_read_with_its_line_breaks_taken_out(width: int, newline: str) -> None:
    # drive.py's sec_b64_mime, and PEM's 64 columns: a line alone would decode and hold part of a secret, and
    # redacting that line alone would re-encode it and hide the rest of the token straddling the next break.
    data = f"some longer preamble text to push the secret over a line {H_SECRET} {H_TOKEN} arn:aws:iam::{H_ACCOUNT}:x"
    text = f"key:{newline}{mime(data.encode(), width, newline)}end"
    assert kinds(HOSTILE.find({"t": text})) == {
        ("secret access key", "t", "line-wrapped base64"),
        ("session token", "t", "line-wrapped base64"),
        ("account id", "t", "line-wrapped base64"),
    }
    cleaned, _ = HOSTILE.redact(text)
    assert_gone(cleaned)
    assert H_ACCOUNT not in base64.b64decode(cleaned.split(newline)[1]).decode()
    assert cleaned.startswith(f"key:{newline}") and cleaned.endswith(f"{newline}end")


def test_a_wrapped_blob_glued_to_text_is_found_by_the_base64_of_the_secret() -> None:
    # The secret straddles the first line break; glued to "Zq", the block does not decode.
    text = "Zq" + mime(b"\xff" * 50 + H_SECRET.encode() + b"\xfd" * 40)
    assert HOSTILE.find(text) == [Finding("secret access key", "", "line-wrapped base64")]
    assert_gone(HOSTILE.redact(text)[0])


def test_a_secret_split_by_a_line_break_is_found() -> None:
    # The built-in engine's echo of two text blocks, one half of the secret each.
    text = f"You said: {H_SECRET[:20]}\n{H_SECRET[20:]}"
    assert HOSTILE.redact(text) == (
        "You said: REDACTED-secret-access-key",
        [Finding("secret access key", "", "line-wrapped")],
    )


@pytest.mark.parametrize("style", [None, '"'])
def test_find_in_text_reads_a_wrapped_blob_in_yaml_quoted_either_way(style: str | None) -> None:
    # Single-quoted YAML folds the blob's lines (a break is a blank line); double-quoted writes them as "\n".
    text = yaml.safe_dump(
        {"text": "Decode this:\n" + mime(H_SECRET.encode() * 3)}, width=float("inf"), default_style=style
    )
    assert H_SECRET not in text
    assert {f.kind for f in HOSTILE.find_in_text(text)} == {"secret access key"}


def test_the_hostile_url_encoded_credentials_are_found_and_redacted_in_place() -> None:
    # drive.py's sec_url_encoded.
    text = "u=" + urllib.parse.quote(H_SECRET, safe="") + " t=" + urllib.parse.quote(H_TOKEN, safe="")
    cleaned, findings = HOSTILE.redact(text)
    assert cleaned == "u=REDACTED-secret-access-key t=REDACTED-session-token"
    assert kinds(findings) == {("secret access key", "", "url-encoded"), ("session token", "", "url-encoded")}


@pytest.mark.parametrize(
    "encode",
    [
        lambda value: urllib.parse.quote(value, safe=""),
        lambda value: re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), urllib.parse.quote(value, safe="")),
        lambda value: urllib.parse.quote_plus(f"the value {value}"),
        lambda value: "".join(f"%{byte:02x}" for byte in value.encode()),
    ],
)
def test_percent_encoding_in_any_case_and_plus_for_space_is_read(encode: Any) -> None:
    scanner = SecretScanner.for_credentials(None, H_SECRET, None, patterns=["the value wJa7"])
    text = f"q={encode(H_SECRET)}&next=1"
    cleaned, findings = scanner.redact(text)
    assert ("secret access key", "", "url-encoded") in kinds(findings)
    assert cleaned.endswith("&next=1") and scanner.find(cleaned) == []
    assert H_SECRET not in urllib.parse.unquote_plus(cleaned)


def test_a_presigned_url_keeps_everything_but_its_credentials() -> None:
    url = (
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/m/invoke?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={H_KEY_ID}%2F20261201%2Fus-west-2%2Fbedrock%2Faws4_request"
        f"&X-Amz-Security-Token={urllib.parse.quote(H_TOKEN, safe='')}&X-Amz-Signature=0123abcd"
    )
    cleaned, findings = HOSTILE.redact(url)
    assert cleaned == (
        "https://bedrock-runtime.us-west-2.amazonaws.com/model/m/invoke?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=REDACTED-AWS-access-key-id%2F20261201%2Fus-west-2%2Fbedrock%2Faws4_request"
        "&X-Amz-Security-Token=REDACTED-session-token&X-Amz-Signature=0123abcd"
    )
    assert kinds(findings) == {("access key id", "", "plain"), ("session token", "", "url-encoded")}


def test_a_percent_encoded_base64_blob_is_decoded_and_encoded_back() -> None:
    blob = b64(f"note {H_SECRET} end?")
    assert "+" in blob or "/" in blob or "=" in blob
    text = "data=" + urllib.parse.quote(blob, safe="")
    cleaned, findings = HOSTILE.redact(text)
    assert findings == [Finding("secret access key", "", "url-encoded base64")]
    assert base64.b64decode(urllib.parse.unquote(cleaned[5:])) == b"note REDACTED-secret-access-key end?"


@pytest.mark.parametrize(
    "body",
    [
        # drive.py's sec_json_escaped and sec_json_escaped2: a body kept as text.
        '{"prompt":"<s>[INST] ' + H_SECRET.replace("/", "\\u002F") + ' [/INST]","max_tokens":20}',
        '{"prompt": "<s>[INST] ' + H_SECRET.replace("/", "\\/") + ' [/INST]", "max_tokens": 20}',
        '{"prompt": "' + H_SECRET.replace("/", "\\u002f") + '"}',
        '{"prompt": "' + "".join(f"\\u{ord(c):04x}" for c in H_SECRET) + '"}',
    ],
)
def test_a_json_escaped_secret_is_found_and_redacted_in_the_escaped_text(body: str) -> None:
    cleaned, findings = HOSTILE.redact({"body_text": body})
    assert findings == [Finding("secret access key", "body_text", "escaped")]
    assert "REDACTED-secret-access-key" in json.loads(cleaned["body_text"])["prompt"]
    assert HOSTILE.find(cleaned) == []


def test_find_in_text_reads_the_escaped_body_of_a_cassette() -> None:
    # cass_f_esc: Bedrock's error echoed the secret with "/" as "\u002F", kept as the response's body_text.
    body = '{"message":"Malformed input request: #/prompt: expected ' + H_SECRET.replace("/", "\\u002F") + '"}'
    for style in (None, '"'):
        text = yaml.safe_dump({"response": {"body_text": body}}, width=float("inf"), default_style=style)
        assert HOSTILE.find_in_text(text) == [Finding("secret access key", "text", "escaped")]


@pytest.mark.parametrize("case", [str.lower, lambda key_id: key_id[:10].lower() + key_id[10:], str.upper])
def test_the_active_key_id_is_found_in_any_letter_case(case: Any) -> None:
    # drive.py's sec_lowercase; and base64 of the lowered id.
    assert HOSTILE.redact(f"lower {case(H_KEY_ID)}.") == (
        "lower REDACTED-AWS-access-key-id.",
        [Finding("access key id", "", "plain")],
    )
    assert HOSTILE.find(b64(f"id {case(H_KEY_ID)}")) == [Finding("access key id", "", "base64")]
    assert HOSTILE.find(f"Zq{b64('xy' + H_KEY_ID.lower())}") == [Finding("access key id", "", "base64")]


def test_the_secret_and_the_token_stay_case_sensitive() -> None:
    assert HOSTILE.find([H_SECRET.upper(), H_SECRET.lower(), H_TOKEN.swapcase()]) == []


def test_arns_with_mixed_case_percent_encoded_colons_are_zeroed() -> None:
    # drive.py's sec_arn_prompt.
    text = f"arn%3Aaws%3Abedrock%3Aus-west-2%3A{H_ACCOUNT}%3Ax arn%3aaws%3Abedrock%3Aus-west-2%3a{H_ACCOUNT} and arn:aws:s3:::b"
    cleaned, findings = SecretScanner().redact(text)
    assert cleaned == (
        "arn%3Aaws%3Abedrock%3Aus-west-2%3A000000000000%3Ax arn%3aaws%3Abedrock%3Aus-west-2%3a000000000000 and arn:aws:s3:::b"
    )
    assert findings == [Finding("account id", "", "plain")]
    # Escaped twice over (a path inside a query string) it is found through the views.
    twice = urllib.parse.quote(f"/model/arn:aws:bedrock:us-west-2:{H_ACCOUNT}:x/converse", safe="").replace("%", "%25")
    assert SecretScanner().find(twice) == [Finding("account id", "", "url-encoded")]


@pytest.mark.parametrize(
    "data",
    [
        # drive.py's b64_utf16le: PowerShell's -EncodedCommand is base64 of UTF-16-LE.
        ("$env:AWS_SECRET_ACCESS_KEY='" + H_SECRET + "'").encode("utf-16-le"),
        ("\ufeffsecret " + H_SECRET).encode("utf-16-le"),
        ("\ufeffsecret " + H_SECRET).encode("utf-16-be"),
        ("secret " + H_SECRET).encode("utf-16-be"),
    ],
)
def test_base64_of_utf16_text_is_decoded_as_utf16_and_encoded_back_so(data: bytes) -> None:
    blob = b64(data)
    cleaned, findings = HOSTILE.redact(blob)
    assert findings == [Finding("secret access key", "", "base64")]
    codec = "utf-16-be" if data[:1] == b"\xfe" or data[:1] == b"\x00" else "utf-16-le"
    assert base64.b64decode(cleaned).decode(codec).endswith("REDACTED-secret-access-key" + "'" * data.startswith(b"$"))
    # Glued to a letter, it no longer decodes: the base64 of the secret's UTF-16 finds it.
    assert HOSTILE.find(f"Zq{blob}") == [Finding("secret access key", "", "base64")]


def test_utf16_of_an_aws_key_id_and_an_arn_is_found_by_pattern() -> None:
    blob = b64(f"\ufeffkey ASIAY34FZKBOKMUTVV7A in arn:aws:iam::{H_ACCOUNT}:role/r".encode("utf-16-le"))
    cleaned, findings = SecretScanner().redact(blob)
    assert kinds(findings) == {("AWS access key id", "", "base64"), ("account id", "", "base64")}
    assert base64.b64decode(cleaned).decode("utf-16-le") == (
        "\ufeffkey REDACTED-AWS-access-key-id in arn:aws:iam::000000000000:role/r"
    )


def test_binary_with_zero_bytes_is_not_read_as_utf16() -> None:
    # Every other byte zero, but controls in between: binary, read byte for byte, so the id inside is still seen.
    data = b"\x01\x00\x02\x00" * 8 + b" AKIAZ3KLMN4OPQR5STUV " + b"\x03\x00" * 8
    cleaned, findings = SecretScanner().redact(b64(data))
    assert findings == [Finding("AWS access key id", "", "base64")]
    assert base64.b64decode(cleaned) == data.replace(b"AKIAZ3KLMN4OPQR5STUV", b"REDACTED-AWS-access-key-id")


def test_builtin_rules_can_be_turned_off() -> None:
    text = f"AKIAZ3KLMN4OPQR5STUV arn:aws:iam::{H_ACCOUNT}:role/r cust-123456 {H_SECRET}"
    assert SecretScanner(builtin=False).redact(text) == (text, [])
    scanner = SecretScanner.for_credentials(None, H_SECRET, None, patterns=[r"cust-\d{6}"], builtin=False)
    cleaned, findings = scanner.redact({"t": text, "b": b64(f"cust-654321 {urllib.parse.quote(H_SECRET, safe='')}")})
    assert cleaned["t"] == f"AKIAZ3KLMN4OPQR5STUV arn:aws:iam::{H_ACCOUNT}:role/r REDACTED REDACTED-secret-access-key"
    assert base64.b64decode(cleaned["b"]) == b"REDACTED REDACTED-secret-access-key"
    assert kinds(findings) == {
        ("pattern", "t", "plain"),
        ("secret access key", "t", "plain"),
        ("pattern", "b", "base64"),
        ("secret access key", "b", "base64 url-encoded"),
    }


def test_the_active_key_id_and_any_other_key_id_share_one_marker() -> None:
    request = {"headers": f"Credential={H_KEY_ID}/20261201", "text": f"others {H_KEY_ID} ASIAY34FZKBOKMUTVV7A"}
    with_credentials, found_with = HOSTILE.redact(request)
    without_credentials, found_without = SecretScanner().redact(request)
    assert (
        with_credentials
        == without_credentials
        == {
            "headers": "Credential=REDACTED-AWS-access-key-id/20261201",
            "text": "others REDACTED-AWS-access-key-id REDACTED-AWS-access-key-id",
        }
    )
    assert kinds(found_with) == {
        ("access key id", "headers", "plain"),
        ("access key id", "text", "plain"),
        ("AWS access key id", "text", "plain"),
    }
    assert {f.kind for f in found_without} == {"AWS access key id"}


def test_a_text_that_never_comes_clean_is_replaced_whole() -> None:
    # A pattern that matches inside its own marker would grow the text forever.
    scanner = SecretScanner.for_credentials(None, None, None, patterns=["ACTED"])
    assert scanner.redact({"t": "keep this, not ACTED"}) == ({"t": "REDACTED"}, [Finding("pattern", "t", "plain")])


def test_a_key_id_made_by_a_marker_next_to_it_is_redacted_too() -> None:
    # Redacting the secret puts "REDACTED" after "AKIA12345678": the next pass takes that id out as well.
    cleaned, findings = HOSTILE.redact(f"AKIA12345678{H_SECRET}")
    assert cleaned == "REDACTED-AWS-access-key-id-secret-access-key"
    assert HOSTILE.find(cleaned) == []
    assert {f.kind for f in findings} == {"secret access key", "AWS access key id"}


def test_the_hostile_cassettes_forms_all_come_out_clean() -> None:
    forms = [
        "Decode this:\n" + base64.encodebytes(b"x" * 16 + H_SECRET.encode() + b"\n" + H_TOKEN.encode()).decode(),
        "u=" + urllib.parse.quote(H_SECRET, safe="") + " t=" + urllib.parse.quote(H_TOKEN, safe=""),
        '{"prompt":"' + H_SECRET.replace("/", "\\u002F") + " " + H_TOKEN.replace("/", "\\/") + '"}',
        f"lower {H_KEY_ID.lower()}",
        b64(("$env:AWS_SESSION_TOKEN='" + H_TOKEN + "'").encode("utf-16-le")),
        f"x{b64(H_SECRET)}zz xy{b64('k=' + H_SECRET)} ab{b64(H_TOKEN)}",
        b64("outer " + b64("inner " + H_SECRET)),
        base64.urlsafe_b64encode(("xx" + H_SECRET + H_TOKEN).encode()).decode().rstrip("="),
    ]
    cleaned, findings = HOSTILE.redact(forms)
    assert {f.where for f in findings} == {f"[{i}]" for i in range(len(forms))}
    for text in cleaned:
        assert_gone(text)
    dumped = yaml.safe_dump(cleaned, width=float("inf"))
    assert HOSTILE.find_in_text(dumped) == []
    assert HOSTILE.find_in_text(yaml.safe_dump(forms, width=float("inf"), default_style='"')) != []


ENCODINGS = {
    "url-encoded": lambda text: urllib.parse.quote(text, safe=""),
    "escaped": lambda text: "".join(f"\\u{ord(c):04x}" if c in "/+=" else c for c in text),
    "line-wrapped base64": lambda text: mime(text.encode(), 16),
}


@given(
    prefix=st.text(string.ascii_letters + " .:", max_size=30),
    secret=st.text(AWS_ALPHABET, min_size=8, max_size=64),
    suffix=st.text(string.ascii_letters + " .:", max_size=30),
    encoding=st.sampled_from(sorted(ENCODINGS)),
)
def test_a_secret_in_an_encoded_text_is_always_found_and_redacted(
    prefix: str, secret: str, suffix: str, encoding: str
) -> None:
    assume("REDACTED" not in secret and "/" in secret)
    scanner = SecretScanner(values=(("secret access key", secret),))
    text = ENCODINGS[encoding](f"{prefix} {secret} {suffix}")
    assert "secret access key" in {f.kind for f in scanner.find(text)}
    cleaned, _ = scanner.redact(text)
    assert scanner.find(cleaned) == []
