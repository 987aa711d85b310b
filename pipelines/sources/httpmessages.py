"""The HTTP response a WARC response record holds, as the server sent it, read as a browser reads
it: the head, then the body undone of its chunked transfer and of each content encoding (gzip,
deflate, br, zstd), never inflated past a given size. The commoncrawl spider and `clippings
import` both read archived responses through here."""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass

import brotli
import zstandard

from pipelines.sources.warcrecords import HEAD_LIMIT

# Undone by decoding: the stored headers describe the stored bytes, as the crawl's do after
# Scrapy has decoded a live response.
UNDONE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_LINE = re.compile(rb"HTTP/\d(?:\.\d)?\s+(\d{3})(?:\s.*)?", re.DOTALL)
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


class UnreadableResponse(Exception):
    """The record's HTTP response cannot be read (a broken head, an undecodable body): the
    record is damaged, and the message says how."""


class BodyTooLarge(Exception):
    """The body is larger than the size given, as stored or once decoded."""


@dataclass
class ArchivedResponse:
    status: int
    headers: list[tuple[str, str]]  # as sent, in order
    payload: bytes  # the body as stored: still chunked and encoded, maybe cut at the size kept
    complete: bool  # False when the record's block was longer than what was kept

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()

    def page_headers(self) -> dict[str, list[str]]:
        """The headers as a FetchedPage holds them (names lowercased), less those the decoding undoes."""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers:
            if name.lower() not in UNDONE_HEADERS:
                headers.setdefault(name.lower(), []).append(value)
        return headers


def parse_response(block: bytes, complete: bool = True) -> ArchivedResponse:
    """The status, headers and payload of a response record's block."""
    end = _HEAD_END.search(block, 0, HEAD_LIMIT)
    if end is None:
        raise UnreadableResponse(f"no end of the HTTP headers within {min(len(block), HEAD_LIMIT)} bytes")
    lines = block[: end.start()].split(b"\n")
    status = _STATUS_LINE.fullmatch(lines[0].strip())
    if status is None:
        raise UnreadableResponse(f"not an HTTP status line: {lines[0][:40].decode('ascii', 'backslashreplace')!r}")
    return ArchivedResponse(int(status[1]), _header_lines(lines[1:]), block[end.end() :], complete)


def _header_lines(lines: list[bytes]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for raw in lines:
        line = _text(raw.rstrip(b"\r"))
        if line[:1] in (" ", "\t") and headers:  # a folded line continues the header before it
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return headers


def _text(raw: bytes) -> str:
    """Header bytes as text: UTF-8 when they are, else ISO-8859-1 (HTTP's historical charset)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")


def decoded_body(response: ArchivedResponse, limit: int) -> bytes:
    """The body as a browser renders it, at most `limit` bytes (BodyTooLarge beyond)."""
    if not response.complete or len(response.payload) > limit and not _encodings(response):
        raise BodyTooLarge()
    body = response.payload
    if "chunked" in (response.header("transfer-encoding") or "").lower():
        body = dechunked(body)
    for encoding in reversed(_encodings(response)):
        body = decode(body, encoding, limit)
    if len(body) > limit:
        raise BodyTooLarge()
    return body


def _encodings(response: ArchivedResponse) -> list[str]:
    value = ",".join(v for k, v in response.headers if k.lower() == "content-encoding")
    return [e.strip().lower() for e in value.split(",") if e.strip() and e.strip().lower() != "identity"]


def dechunked(payload: bytes) -> bytes:
    """The chunks' data. A payload that does not start with a chunk is taken as it is (some
    archivers store the body unchunked but keep the header); one cut short gives what it holds."""
    first = _CHUNK_SIZE.match(payload)
    if first is None:
        return payload
    parts, position = [], 0
    while (size_line := _CHUNK_SIZE.match(payload, position)) is not None:
        size = int(size_line[1], 16)
        if size == 0:
            break
        start = size_line.end()
        parts.append(payload[start : start + size])
        position = start + size
        if payload.startswith(b"\r\n", position):
            position += 2
        elif payload.startswith(b"\n", position):
            position += 1
    else:
        if position < len(payload) and payload[position:].strip():
            raise UnreadableResponse(f"malformed chunked transfer encoding at byte {position} of the body")
    return b"".join(parts)


def decode(data: bytes, encoding: str, limit: int) -> bytes:
    """One content encoding undone; at most limit + 1 bytes come out."""
    try:
        if encoding in ("gzip", "x-gzip"):
            return _inflate(data, zlib.MAX_WBITS | 32, limit)  # gzip, or zlib as some servers send
        if encoding == "deflate":
            try:
                return _inflate(data, zlib.MAX_WBITS, limit)
            except zlib.error:
                return _inflate(data, -zlib.MAX_WBITS, limit)  # raw deflate, as some servers send it
        if encoding == "br":
            return _unbrotli(data, limit)
        if encoding == "zstd":
            return _unzstd(data, limit)
    except (zlib.error, brotli.error, zstandard.ZstdError) as error:
        raise UnreadableResponse(f"corrupt {encoding} body ({error})") from None
    raise UnreadableResponse(f"an unknown Content-Encoding {encoding!r}")


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """A body cut short gives what it holds, as browsers show it; bytes after its end are ignored."""
    return zlib.decompressobj(wbits).decompress(data, limit + 1)


def _unbrotli(data: bytes, limit: int) -> bytes:
    out = brotli.Decompressor().process(data, output_buffer_limit=limit + 1)
    if len(out) > limit:
        raise BodyTooLarge()
    return out


def _unzstd(data: bytes, limit: int) -> bytes:
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    parts, size = [], 0
    while size <= limit and (part := reader.read(min(1 << 20, limit + 1 - size))):
        parts.append(part)
        size += len(part)
    return b"".join(parts)
