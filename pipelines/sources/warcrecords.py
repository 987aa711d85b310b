"""WARC records read from a file, gzipped (a member per record, or several) or not, with bounded
work: time linear in the file's size, memory bounded whatever the file holds.

- A record's header block ends within HEAD_LIMIT bytes, or the place is damage: an endless
  first line costs one search of HEAD_LIMIT bytes, not a line grown byte by byte.
- Of a record's block only what the caller asks for is kept; the rest is skipped (sought past
  in a plain file, inflated and dropped in a gzipped one).
- A gzip member may inflate to at most `max_inflation` times the compressed bytes it has used
  (beyond INFLATION_SLACK): more is a decompression bomb, reported as damage and skipped by
  looking for the next member in the compressed bytes, which costs no inflation.
- Damage (a place where no record can be read) is yielded with its offset and reason, and
  reading goes on at the next record start found after it: the next gzip member in a gzipped
  file, the next `WARC/` line in a plain one. One damaged stretch is one report.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 1 << 16  # bytes read at a time
INFLATE_CHUNK = 1 << 20  # bytes inflated at a time: a bomb is caught within a MiB
HEAD_LIMIT = 1 << 20  # a WARC header block (or an HTTP head, see pipelines/sources/httpmessages.py) longer than this is damage
INFLATION_SLACK = 1 << 20  # any member may inflate to this much, whatever its size
GZIP_MAGIC = b"\x1f\x8b\x08"
BLANK = b"\r\n \t\x00"  # between records: their trailing CRLFs, padding
RECORD_TYPES = {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation"}
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_NOT_BLANK = re.compile(rb"[^\r\n \t\x00]")
_VERSION = re.compile(rb"WARC/\d+\.\d+")
_LINE_START = b"\nWARC/"


@dataclass
class WarcRecord:
    offset: int  # where it starts in the file (in a .warc.gz, its gzip member's start)
    length: int | None  # its bytes in the file (its members'); None when it shares a member with the next
    headers: dict[str, str]  # the WARC headers, names lowercased, the first of each
    block: bytes  # the first bytes of its block, as many as the caller asked for
    block_length: int  # its Content-Length

    type: str = ""  # WARC-Type
    target_uri: str = ""  # WARC-Target-URI (without the angle brackets some writers put around it)


@dataclass
class Damage:
    offset: int  # where the unreadable stretch starts
    reason: str


class _Damaged(Exception):
    def __init__(self, reason: str, offset: int | None = None):
        super().__init__(reason)
        self.reason, self.offset = reason, offset


def read_records(stream: BinaryIO, keep: Callable[[dict[str, str]], int], max_inflation: int) -> Iterator[WarcRecord | Damage]:
    """The records of a seekable stream, in order, and its damaged places. `keep` says how many
    bytes of a record's block to keep, from its WARC headers."""
    stream.seek(0)
    gzipped = stream.read(2) == GZIP_MAGIC[:2]
    source = _GzipSource(stream, max_inflation) if gzipped else _PlainSource(stream)
    resyncing = False  # a damaged stretch's false starts are not reported again
    while True:
        start = None
        try:
            if not source.skip_blank():
                return
            start = source.offset()
            record = _read_record(source, keep)
        except _Damaged as damage:
            where = damage.offset if damage.offset is not None else start if start is not None else source.offset()
            if not resyncing:
                yield Damage(where, damage.reason)
            resyncing = True
            if not source.resync(where + 1):
                return
            continue
        resyncing = False
        yield record


def _read_record(source: _Source, keep: Callable[[dict[str, str]], int]) -> WarcRecord:
    offset = source.offset()
    headers = _parse_head(source.read_head())
    try:
        length = int(headers.get("content-length", ""))
    except ValueError:
        raise _Damaged(f"no valid Content-Length ({headers.get('content-length')!r})") from None
    if length < 0:
        raise _Damaged(f"a negative Content-Length ({length})")
    if headers.get("warc-type") not in RECORD_TYPES:
        raise _Damaged(f"unknown WARC record type {headers.get('warc-type')!r}")
    kept = min(max(keep(headers), 0), length)
    block = source.read(kept)
    source.skip(length - kept)
    target = headers.get("warc-target-uri", "").strip().removeprefix("<").removesuffix(">")
    return WarcRecord(offset, source.end_of_record(offset), headers, block, length, headers["warc-type"], target)


def _parse_head(head: bytes) -> dict[str, str]:
    lines = head.split(b"\n")
    version = lines[0].strip()
    if not _VERSION.fullmatch(version):
        raise _Damaged(f"no WARC record starts here (it starts with {_shown(version)})")
    headers: dict[str, str] = {}
    name = None
    for raw in lines[1:]:
        line = raw.rstrip(b"\r").decode("utf-8", "replace")
        if line[:1] in (" ", "\t") and name:  # a folded line continues the value before it
            headers[name] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            headers.setdefault(name, value.strip())
    return headers


def _shown(data: bytes) -> str:
    """A few bytes as an escaped string for a reader."""
    return repr(bytes(data[:24]))[1:]


class _Source:
    """The decoded bytes of the file, a buffer at a time, and where in the file they lie."""

    def __init__(self, stream: BinaryIO):
        self.stream = stream
        self.buffer = bytearray()
        self.pos = 0  # next unread byte of buffer
        self.base = 0  # decoded position of buffer[0]

    # what the two kinds of file do differently
    def _fill(self) -> bool:
        """More decoded bytes into the buffer; False at the end (of a gzip member: see _GzipSource)."""
        raise NotImplementedError

    def offset(self) -> int:
        """Where a record starting at the next unread byte starts in the file."""
        raise NotImplementedError

    def end_of_record(self, offset: int) -> int | None:
        raise NotImplementedError

    def resync(self, offset: int) -> bool:
        raise NotImplementedError

    def _more(self) -> bool:
        return self._fill()

    # reading
    def _unread(self) -> int:
        return len(self.buffer) - self.pos

    def _take(self, count: int) -> bytes:
        with memoryview(self.buffer) as view:
            data = bytes(view[self.pos : self.pos + count])
        self._advance(count)
        return data

    def _advance(self, count: int) -> None:
        self.pos += count
        if self.pos > CHUNK and self.pos * 2 > len(self.buffer):
            del self.buffer[: self.pos]
            self.base += self.pos
            self.pos = 0

    def skip_blank(self) -> bool:
        """Past the blank bytes before the next record; False at the end of the file."""
        while True:
            found = _NOT_BLANK.search(self.buffer, self.pos)
            if found:
                self._advance(found.start() - self.pos)
                return True
            self._advance(self._unread())
            if not self._more():
                return False

    def read_head(self) -> bytes:
        """The header block at the read position, its end line included."""
        searched = self.pos
        while True:
            if self._unread() >= 5 and not self.buffer.startswith(b"WARC/", self.pos):
                raise _Damaged(
                    f"no WARC record starts here (it starts with {_shown(bytes(self.buffer[self.pos : self.pos + 24]))})"
                )
            found = _HEAD_END.search(self.buffer, searched)
            if found and found.end() - self.pos <= HEAD_LIMIT:
                return self._take(found.end() - self.pos)
            if self._unread() > HEAD_LIMIT:
                raise _Damaged(f"no end of WARC headers within {HEAD_LIMIT} bytes")
            searched = max(self.pos, len(self.buffer) - 3)
            if not self._more():
                raise _Damaged("the file ends inside a WARC header")

    def read(self, count: int) -> bytes:
        while self._unread() < count:
            if not self._more():
                raise _Damaged(f"record cut short: {count - self._unread()} bytes of its block missing")
        return self._take(count)

    def skip(self, count: int) -> None:
        while count:
            if not self._unread() and not self._more():
                raise _Damaged(f"record cut short: {count} bytes of its block missing")
            step = min(count, self._unread())
            self._advance(step)
            count -= step


class _PlainSource(_Source):
    def __init__(self, stream: BinaryIO):
        super().__init__(stream)
        self.size = stream.seek(0, 2)
        stream.seek(0)

    def _fill(self) -> bool:
        data = self.stream.read(CHUNK)
        self.buffer += data
        return bool(data)

    def offset(self) -> int:
        return self.base + self.pos

    def skip(self, count: int) -> None:
        """Past the rest of a block: sought, not read (a video in a WACZ is gigabytes)."""
        step = min(count, self._unread())
        self._advance(step)
        count -= step
        if count:
            if self.base + len(self.buffer) + count > self.size:
                raise _Damaged(f"record cut short: {self.base + len(self.buffer) + count - self.size} bytes of its block missing")
            self.stream.seek(count, 1)
            self.base += len(self.buffer) + count
            self.buffer.clear()
            self.pos = 0

    def end_of_record(self, offset: int) -> int | None:
        self.skip_blank()
        return self.offset() - offset

    def resync(self, offset: int) -> bool:
        """Go to the next line starting with WARC/ at or after offset."""
        found = _find(self.stream, offset - 1, _LINE_START)
        if found is None:
            return False
        return self._restart(found + 1)

    def _restart(self, offset: int) -> bool:
        self.stream.seek(offset)
        self.buffer.clear()
        self.base, self.pos = offset, 0
        return True


class _GzipSource(_Source):
    """The members' inflated bytes one after the other. A member's bytes come first; the
    next member starts only when they are all read (_more), so the end of the member holding a
    record is known when the record ends, and its length with it."""

    def __init__(self, stream: BinaryIO, max_inflation: int):
        super().__init__(stream)
        self.max_inflation = max_inflation
        self.members: list[tuple[int, int]] = []  # (decoded position, file offset) of each member's start
        self._start_member(0)

    def _start_member(self, offset: int, pending: bytes | None = None) -> None:
        """A member from offset on; `pending` is its first bytes when they have been read (else
        the stream is sought to it)."""
        if pending is None:
            self.stream.seek(offset)
            pending = b""
        self.member_start, self.read_to = offset, offset + len(pending)
        self.pending = pending  # compressed bytes read but not yet given to the decompressor
        self.decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        self.inflated = 0
        self.member_end: int | None = None
        self.members.append((self.base + len(self.buffer), offset))
        del self.members[:-2]

    def _fill(self) -> bool:
        """The current member's next bytes; False once it has ended."""
        while self.member_end is None:
            data = self.decompressor.unconsumed_tail
            if not data:
                if not self.pending:
                    self.pending = self.stream.read(CHUNK)
                    self.read_to += len(self.pending)
                    if not self.pending:
                        raise _Damaged("a gzip member cut short (the file ends inside it)", self.member_start)
                data, self.pending = self.pending, b""
            try:
                out = self.decompressor.decompress(data, INFLATE_CHUNK)
            except zlib.error as error:
                raise _Damaged(f"corrupt gzip data ({error})", self.member_start) from None
            self.inflated += len(out)
            self._check_inflation()
            if self.decompressor.eof:
                self.pending = self.decompressor.unused_data
                self.member_end = self.read_to - len(self.pending)
            if out:
                self.buffer += out
                return True
        return False

    def _check_inflation(self) -> None:
        used = self.read_to - len(self.pending) - len(self.decompressor.unconsumed_tail) - self.member_start
        if self.inflated > max(INFLATION_SLACK, self.max_inflation * used):
            raise _Damaged(
                f"a gzip member inflating to more than {self.max_inflation} times its size (a decompression bomb?)",
                self.member_start,
            )

    def _more(self) -> bool:
        """The current member's next bytes, else the next member's (members may be empty)."""
        while not self._fill():
            start = self._next_member()
            if start is None:
                return False
            self._start_member(start, self.pending)
        return True

    def _next_member(self) -> int | None:
        """Where the member after the current one starts: after blank bytes, if any, a gzip
        header, whose bytes read so far are left in pending; None at the end of the file."""
        position, data = self.member_end, self.pending
        while True:
            found = _NOT_BLANK.search(data)
            if found:
                start, rest = position + found.start(), data[found.start() :]
                while len(rest) < len(GZIP_MAGIC) and (more := self.stream.read(CHUNK)):
                    rest += more
                if not rest.startswith(GZIP_MAGIC):
                    raise _Damaged(f"not a gzip member (it starts with {_shown(rest)})", start)
                self.pending = rest
                return start
            position += len(data)
            data = self.stream.read(CHUNK)
            if not data:
                return None

    def offset(self) -> int:
        position = self.base + self.pos
        return next((offset for decoded, offset in reversed(self.members) if decoded <= position), self.members[0][1])

    def end_of_record(self, offset: int) -> int | None:
        """The record's length when its member ends with it (blank bytes aside), as it does
        when each record is a member of its own."""
        while True:
            found = _NOT_BLANK.search(self.buffer, self.pos)
            if found:
                self._advance(found.start() - self.pos)
                return None
            self._advance(self._unread())
            if not self._fill():
                return self.member_end - offset

    def resync(self, offset: int) -> bool:
        """Go to the next gzip member start at or after offset."""
        found = _find(self.stream, offset, GZIP_MAGIC)
        if found is None:
            return False
        self.base += len(self.buffer)
        self.buffer.clear()
        self.pos = 0
        self.members.clear()
        self._start_member(found)
        return True


def _find(stream: BinaryIO, offset: int, marker: bytes) -> int | None:
    """The offset of the next marker at or after offset, read a MiB at a time."""
    stream.seek(max(offset, 0))
    position, carry = max(offset, 0), b""
    while chunk := stream.read(1 << 20):
        window = carry + chunk
        found = window.find(marker)
        if found >= 0:
            return position - len(carry) + found
        carry = window[-(len(marker) - 1) :]
        position += len(chunk)
    return None
