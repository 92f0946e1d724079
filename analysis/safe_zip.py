"""Read members of an untrusted zip archive (.docx, .qdpx) with a hard cap on inflated bytes.

A zip's directory states each member's size, but nothing forces the compressed stream to
match it: a small archive can claim a 5 KB member and inflate to a gigabyte. `zipfile`'s
`read()` asks zlib for everything at once, so the whole gigabyte is allocated before the size
check truncates it. This module never trusts the declared sizes: it inflates in small chunks
and counts the bytes it actually got, stopping at the cap.

No Flask and no survey_app here: the REFI-QDA reader and the transcript reader share it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import BinaryIO

#: bytes inflated per step; small enough that one step never holds much memory
CHUNK = 64 * 1024
#: members an archive may hold (a .docx has about 15, a .qdpx one per source)
MAX_MEMBERS = 10_000


class UnsafeZipError(ValueError):
    """The archive is not a readable zip, or inflates past the caps; `reason` says which."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason  # "bad_zip", "too_many_members", "too_large", "missing"


class SafeZip:
    """A zip archive whose members are read with a budget of inflated bytes.

    `max_member_bytes` caps any one member, `max_total_bytes` everything read through this
    object (counted on the bytes actually inflated, never on the directory's claims).
    """

    def __init__(
        self,
        data: bytes | BinaryIO,
        *,
        max_member_bytes: int,
        max_total_bytes: int,
        max_members: int = MAX_MEMBERS,
    ) -> None:
        source = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
        try:
            self.archive = zipfile.ZipFile(source)
            infos = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as err:
            raise UnsafeZipError("bad_zip", f"not a readable zip archive ({err})") from None
        if len(infos) > max_members:
            raise UnsafeZipError(
                "too_many_members", f"the archive holds {len(infos)} members (limit {max_members})"
            )
        self.infos = {info.filename: info for info in infos}
        self.max_member_bytes = max_member_bytes
        self.max_total_bytes = max_total_bytes
        self.inflated = 0  # bytes actually inflated so far, all members together

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.archive.close()

    def names(self) -> list[str]:
        return list(self.infos)

    def iter_chunks(self, name: str, max_bytes: int | None = None) -> Iterator[bytes]:
        """Yield the inflated bytes of member `name` chunk by chunk, within the caps."""
        info = self.infos.get(name)
        if info is None:
            raise UnsafeZipError("missing", f"the archive has no member {name!r}")
        if info.flag_bits & 0x1:
            raise UnsafeZipError("bad_zip", f"member {name!r} is encrypted")
        cap = self.max_member_bytes if max_bytes is None else min(max_bytes, self.max_member_bytes)
        got = 0
        try:
            with self.archive.open(info) as member:
                while True:
                    chunk = member.read(CHUNK)
                    if not chunk:
                        return
                    got += len(chunk)
                    self.inflated += len(chunk)
                    if got > cap:
                        raise UnsafeZipError(
                            "too_large", f"member {name!r} inflates past {cap} bytes"
                        )
                    if self.inflated > self.max_total_bytes:
                        raise UnsafeZipError(
                            "too_large",
                            f"the archive inflates past {self.max_total_bytes} bytes",
                        )
                    yield chunk
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as err:
            # a CRC or size mismatch (a member that lies about its size ends here), a bad
            # compression stream, an unsupported method
            if isinstance(err, UnsafeZipError):
                raise
            raise UnsafeZipError("bad_zip", f"member {name!r} is damaged ({err})") from None

    def read(self, name: str, max_bytes: int | None = None) -> bytes:
        """The whole inflated member, or UnsafeZipError past the caps."""
        return b"".join(self.iter_chunks(name, max_bytes))

    def open_stream(self, name: str, max_bytes: int | None = None) -> BinaryIO:
        """A read-only file object over the member, for streaming parsers (iterparse)."""
        return _ChunkStream(self.iter_chunks(name, max_bytes))


class _ChunkStream(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[override]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n
