"""Web archive files for the tests, written with warcio: WARC, WARC.gz and WACZ, from fixture
pages or from an archive's own captures, with ways to damage them."""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import zstandard
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass
class Record:
    url: str
    body: bytes
    status: str = "200 OK"
    content_type: str = "text/html; charset=utf-8"
    date: str = "2017-10-20T12:00:00Z"
    kind: str = "response"
    extra_headers: list = field(default_factory=list)


def write_warc(path: Path, records: list[Record], gzip: bool | None = None) -> list[int]:
    """The records as a WARC file (gzipped when the name ends in .gz); their byte offsets."""
    gzip = path.name.endswith(".gz") if gzip is None else gzip
    offsets = []
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=gzip)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "clippings tests"}))
        for record in records:
            offsets.append(out.tell())
            writer.write_record(_warc_record(writer, record))
    return offsets


def _warc_record(writer: WARCWriter, record: Record):
    headers = {"WARC-Date": record.date}
    if record.kind == "revisit":
        http = StatusAndHeaders(record.status, [("Content-Type", record.content_type)], protocol="HTTP/1.1")
        return writer.create_revisit_record(
            record.url,
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            refers_to_uri=record.url,
            refers_to_date=record.date,
            http_headers=http,
        )
    if record.kind == "request":
        http = StatusAndHeaders(f"GET {record.url} HTTP/1.1", [("Host", "example.org")], is_http_request=True)
        return writer.create_warc_record(record.url, "request", http_headers=http, warc_headers_dict=headers)
    http = StatusAndHeaders(record.status, [("Content-Type", record.content_type), *record.extra_headers], protocol="HTTP/1.1")
    return writer.create_warc_record(
        record.url, "response", payload=io.BytesIO(record.body), http_headers=http, warc_headers_dict=headers
    )


def write_wacz(path: Path, warcs: dict[str, Path]) -> None:
    """A WACZ: the WARCs under archive/, listed in datapackage.json (stored, as Browsertrix does)."""
    resources = [{"name": name, "path": f"archive/{name}"} for name in warcs]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as wacz:
        for name, warc in warcs.items():
            wacz.write(warc, f"archive/{name}")
        wacz.writestr("datapackage.json", json.dumps({"profile": "data-package", "resources": resources}))


def records_from_archive(db: Path, source: str = "live") -> list[Record]:
    """An archive's captures as WARC response records: the tool's own export of what it fetched."""
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT c.url, c.status, c.content_type, c.fetched_at, b.body FROM captures c "
        "JOIN capture_bodies b USING (content_sha256) WHERE c.source = ? ORDER BY c.id",
        (source,),
    ).fetchall()
    conn.close()
    decompress = zstandard.ZstdDecompressor().decompress
    return [
        Record(url, decompress(body), f"{status} OK", content_type or "text/html", fetched_at.replace("+00:00", "Z"))
        for url, status, content_type, fetched_at, body in rows
    ]


def corrupt(path: Path, at: int, length: int = 64) -> None:
    """Overwrite `length` bytes at offset `at` with garbage."""
    data = bytearray(path.read_bytes())
    data[at : at + length] = b"\x00garbage\xff" * (length // 10) + b"\x00" * (length % 10)
    path.write_bytes(bytes(data))


def truncate(path: Path, size: int) -> None:
    path.write_bytes(path.read_bytes()[:size])
