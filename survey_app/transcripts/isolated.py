"""Read an uploaded transcript in a child process with a CPU, memory and wall-clock limit.

The readers cap what a file may unpack to, but parsing still costs CPU and memory; a child
process bounds both whatever the file does, so one upload cannot starve the web server. At
most a few parses run at once per web process; the others wait for a slot.

Run as `python -m survey_app.transcripts.isolated`: a JSON header line, then the file bytes, on
stdin; a JSON answer on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

from survey_app.transcripts.readers import TranscriptFileError, read_transcript_upload

_SLOTS: dict[int, threading.BoundedSemaphore] = {}
_SLOTS_LOCK = threading.Lock()


def _slots(concurrency: int) -> threading.BoundedSemaphore:
    with _SLOTS_LOCK:
        return _SLOTS.setdefault(concurrency, threading.BoundedSemaphore(concurrency))


def _too_costly() -> TranscriptFileError:
    return TranscriptFileError(
        "too_complex",
        "La lecture de ce fichier dépasse les limites de temps ou de mémoire : enregistrez la "
        "transcription en .txt ou découpez-la.",
        "Reading this file exceeds the time or memory limits: save the transcript as .txt "
        "or split it.",
    )


def _busy() -> TranscriptFileError:
    return TranscriptFileError(
        "busy",
        "Trop de fichiers sont en cours de lecture : réessayez dans une minute.",
        "Too many files are being read right now: try again in a minute.",
    )


def limits_from(config: dict) -> dict[str, float]:
    """The child's limits from the app's TRANSCRIPT_PARSE_* settings."""
    return {
        "seconds": config["TRANSCRIPT_PARSE_SECONDS"],
        "memory_bytes": config["TRANSCRIPT_PARSE_MEMORY"],
        "concurrency": config["TRANSCRIPT_PARSE_CONCURRENCY"],
    }


def read_upload_isolated(
    filename: str,
    data: bytes,
    max_bytes: int,
    *,
    seconds: float = 20,
    memory_bytes: int = 1_000_000_000,
    concurrency: int = 2,
) -> str:
    """read_transcript_upload() in a limited child process; same result, same errors."""
    slots = _slots(concurrency)
    if not slots.acquire(timeout=seconds):
        raise _busy()
    try:
        return _run_child(filename, data, max_bytes, seconds, memory_bytes)
    finally:
        slots.release()


def _run_child(filename: str, data: bytes, max_bytes: int, seconds: float, memory: int) -> str:
    header = {"filename": filename, "max_bytes": max_bytes, "seconds": seconds, "memory": memory}
    payload = json.dumps(header).encode() + b"\n" + data
    try:
        done = subprocess.run(
            [sys.executable, "-m", "survey_app.transcripts.isolated"],
            input=payload,
            capture_output=True,
            timeout=seconds + 5,  # the CPU limit ends the child first unless it is waiting
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _too_costly() from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:  # killed by the CPU limit, or out of memory before it could answer
        raise _too_costly() from None
    if "error" in answer:
        raise TranscriptFileError(answer["error"], answer["message_fr"], answer["message_en"])
    return answer["text"]


def _limit_self(seconds: float, memory: int) -> None:
    import resource

    cpu = max(1, int(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    try:
        os.nice(10)  # the web server's own threads come first
    except OSError:
        pass


def main() -> None:
    stream = sys.stdin.buffer
    header = json.loads(stream.readline())
    data = stream.read()
    _limit_self(header["seconds"], header["memory"])
    try:
        answer = {"text": read_transcript_upload(header["filename"], data, header["max_bytes"])}
    except TranscriptFileError as err:
        answer = {"error": err.code, "message_fr": err.message_fr, "message_en": err.message_en}
    except MemoryError:
        error = _too_costly()
        answer = {
            "error": error.code,
            "message_fr": error.message_fr,
            "message_en": error.message_en,
        }
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
