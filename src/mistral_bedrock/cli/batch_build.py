"""``mistral-bedrock batch build FILE --model M``: prompts or conversations → a records file for a batch job.

FILE is a ``.txt`` (one prompt per line), a ``.jsonl`` (one conversation per line: ``{"messages": [...]}`` or a list
of messages) or a ``.json`` conversation as ``chat``'s ``/save`` writes it. Each becomes one record,
``{"recordId": "r00000000000", "modelInput": …}``, whose body the project's formats build: the model's native
InvokeModel body, or with ``--converse`` a Converse request. The sampling options go into every record.

Every record is checked as ``batch validate`` checks it while it is built (``build_records``): a value Bedrock
would refuse (``--temperature 7``, ``--max-tokens 0``), or a max tokens the local runtime refuses, stops the build
with the message. The records are written whole or not at all (a temporary file renamed over ``--out``, which must
end in ``.jsonl``), so a refusal or a failure midway leaves no half-built input behind; a FILE with no
conversations builds nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click

from ..conversation import Message, Params
from ..errors import MistralBedrockError
from .batch_options import invocation
from .batch_words import plural
from .failures import UsageFailure, fail
from .options import inference_options

__all__ = ["command", "records_path"]


def records_path(source: Path) -> Path:
    """``prompts.txt`` → ``prompts.records.jsonl``, beside it."""
    return source.with_name(f"{source.stem}.records.jsonl")


@click.command("build")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model", "-m", required=True, help="Model id, alias, ARN or inference profile the job is for.")
@click.option("--converse", is_flag=True, help="Build Converse requests (modelInvocationType Converse).")
@click.option("--system", metavar="TEXT", help="A system prompt put before every conversation.")
@click.option("--region", metavar="REGION", help="The job's Region: an alias resolves to what it serves there.")
@click.option(
    "--out", type=click.Path(dir_okay=False, path_type=Path), help="Records file (default FILE.records.jsonl)."
)
@inference_options
def command(
    file: Path,
    model: str,
    converse: bool,
    system: str | None,
    region: str | None,
    out: Path | None,
    params: Params,
) -> None:
    """Build a records file (JSONL) from FILE's prompts or conversations, one record each."""
    from ..batch.build import ConversationFileError, RecordBuildError, build_records, read_conversations

    target = out or records_path(file)
    if not target.name.endswith(".jsonl"):
        raise fail(f"--out {target}: a batch input's name must end in .jsonl (Bedrock reads no other)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror or exc}") from None
    conversations = (
        ([Message.system(system), *conversation] if system else conversation)
        for conversation in read_conversations(file)
    )
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            for record in build_records(
                conversations, model=model, invocation=invocation(converse), params=params, region=region
            ):
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
        if count == 0:
            raise UsageFailure(f"no conversations in {file}: nothing to build")
        os.replace(temporary, target)
    except RecordBuildError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise fail(f"{file}: {' '.join(str(exc).split())}; nothing was written") from None
    except (ConversationFileError, MistralBedrockError, OSError) as exc:
        Path(temporary).unlink(missing_ok=True)
        raise fail(f"{file}: {exc}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {plural(count, 'record')} to {target}")
