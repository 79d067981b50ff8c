"""Event-stream decoding throughput: mistral_bedrock's decoder vs botocore's EventStreamBuffer.

Usage::

    python bench/eventstream_decode.py [--quick] [--frames N] [--repeat R] [--json PATH]

Builds a stream of realistic InvokeModelWithResponseStream ``chunk`` frames (payload
``{"bytes": base64(Mistral chat chunk JSON), "p": padding}``, headers ``:event-type chunk``,
``:content-type application/json``, ``:message-type event``; ~200-300 bytes each), then decodes the
same bytes, split the same way, with both decoders in the same process. Each figure is the best of
several repetitions timed with ``time.perf_counter``. Scenarios:

* ``4 KiB reads``: the stream in 4096-byte pieces, as an HTTP body read in 4 KiB blocks.
* ``frame per feed``: one frame per feed, as when every HTTP chunk carries one event.
* ``whole buffer``: a whole response (1,000 frames) in one feed. Kept to 1,000 frames because
  botocore re-slices its buffer after every frame, which is quadratic in the buffer size.
* ``4 KiB, no cache``: as ``4 KiB reads`` with our header-block cache switched off, the worst
  case where no two frames share a header block (Bedrock streams always do).

Both sides count every decoded message and must agree with the frame count; payloads are compared
once, outside the timed runs.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import botocore
from botocore.eventstream import EventStreamBuffer

from _results import write_results

try:
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder, encode_event
except ImportError:  # running from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from mistral_bedrock.protocol.eventstream import EventStreamDecoder, encode_event

_PADDING = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_WORDS = ("The", " model", " answered", " about", " event", " stream", " framing", ".", "\n", " a")


def build_frames(count: int, seed: int = 1234) -> list[bytes]:
    """``count`` chunk frames shaped like Bedrock's Mistral chat stream."""
    rng = random.Random(seed)
    frames = []
    for index in range(count):
        last = index == count - 1
        chunk: dict[str, object] = {
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": rng.choice(_WORDS)},
                    "stop_reason": "stop" if last else None,
                }
            ]
        }
        if last:
            chunk["amazon-bedrock-invocationMetrics"] = {
                "inputTokenCount": 63,
                "outputTokenCount": count,
                "invocationLatency": 5330,
                "firstByteLatency": 122,
            }
        encoded = base64.b64encode(json.dumps(chunk, separators=(",", ":")).encode()).decode()
        body = {"bytes": encoded, "p": _PADDING[: rng.randint(1, len(_PADDING))]}
        frames.append(encode_event("chunk", json.dumps(body, separators=(",", ":")).encode()))
    return frames


def split(stream: bytes, size: int) -> list[bytes]:
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def decode_ours(chunks: Sequence[bytes]) -> int:
    decoder = EventStreamDecoder()
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    decoder.close()
    return count


def decode_ours_uncached(chunks: Sequence[bytes]) -> int:
    # Worst case for us: every header block parsed afresh, as if no two frames shared headers.
    decoder = EventStreamDecoder(header_cache_size=0)
    count = 0
    for chunk in chunks:
        count += len(decoder.feed(chunk))
    decoder.close()
    return count


def decode_botocore(chunks: Sequence[bytes]) -> int:
    buffer = EventStreamBuffer()
    count = 0
    for chunk in chunks:
        buffer.add_data(chunk)
        for _message in buffer:
            count += 1
    return count


def best_time(decode: Callable[[Sequence[bytes]], int], chunks: Sequence[bytes], frames: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        decoded = decode(chunks)
        elapsed = time.perf_counter() - start
        if decoded != frames:
            raise AssertionError(f"{decode.__name__} decoded {decoded} frames, expected {frames}")
        best = min(best, elapsed)
    return best


def check_same_output(stream: bytes) -> None:
    ours = EventStreamDecoder().feed(stream)
    theirs = EventStreamBuffer()
    theirs.add_data(stream)
    for mine, other in zip(ours, theirs, strict=True):
        if mine.payload != other.payload or dict(mine.headers) != other.headers:
            raise AssertionError("decoders disagree")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames and repetitions")
    parser.add_argument("--frames", type=int, help="frames in the streamed scenarios")
    parser.add_argument("--repeat", type=int, help="repetitions; the best is reported")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    args = parser.parse_args(argv)
    frame_count = args.frames or (2_000 if args.quick else 20_000)
    repeat = args.repeat or (3 if args.quick else 7)
    whole_count = min(frame_count, 1_000)

    frames = build_frames(frame_count)
    stream = b"".join(frames)
    whole = b"".join(frames[:whole_count])
    check_same_output(stream)

    reads = split(stream, 4096)
    scenarios = [
        ("4 KiB reads", reads, frame_count, len(stream), decode_ours),
        ("frame per feed", frames, frame_count, len(stream), decode_ours),
        ("whole buffer", [whole], whole_count, len(whole), decode_ours),
        ("4 KiB, no cache", reads, frame_count, len(stream), decode_ours_uncached),
    ]
    results = []
    for name, chunks, count, size, ours in scenarios:
        row: dict[str, object] = {"scenario": name, "frames": count, "bytes": size, "feeds": len(chunks)}
        for label, decode in (("ours", ours), ("botocore", decode_botocore)):
            seconds = best_time(decode, chunks, count, repeat)
            row[label] = {
                "seconds": seconds,
                "frames_per_s": count / seconds,
                "mb_per_s": size / seconds / 1e6,
            }
        row["ratio"] = row["botocore"]["seconds"] / row["ours"]["seconds"]  # type: ignore[index]
        results.append(row)

    info = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "botocore": botocore.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "frames": frame_count,
        "mean_frame_bytes": round(len(stream) / frame_count, 1),
        "repeat": repeat,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    print(
        f"Python {info['python']}, botocore {info['botocore']}, {info['cpu_count']} CPUs, "
        f"{frame_count} frames, mean {info['mean_frame_bytes']} B/frame, best of {repeat}"
    )
    header = f"{'scenario':<16}{'decoder':<10}{'frames/s':>12}{'MB/s':>9}{'ours/botocore':>15}"
    print(header)
    print("-" * len(header))
    for row in results:
        for label in ("ours", "botocore"):
            figures = row[label]
            assert isinstance(figures, dict)
            ratio = f"{row['ratio']:.2f}x" if label == "ours" else ""
            print(
                f"{row['scenario'] if label == 'ours' else '':<16}{label:<10}"
                f"{figures['frames_per_s']:>12,.0f}{figures['mb_per_s']:>9.1f}{ratio:>15}"
            )
    write_results(args.json, info, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
