"""Web archive files as pages: WARC (gzipped or not) and WACZ, local or over HTTP(S), read
record by record into FetchedPages, with what was skipped and what was damaged counted."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import shutil
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawlers.items import FetchedPage
from crawlers.safety import AddressPolicy, literal_address
from pipelines.processing import HTML_TYPES
from pipelines.prefilter import Prefilter

MAX_BODY = 20 * 1024 * 1024  # as the crawl's DOWNLOAD_MAXSIZE
DOWNLOAD_TIMEOUT = 60
# Hop-by-hop encodings the reader has undone (warcio decodes chunked and gzip bodies): the
# stored headers describe the stored bytes, as the crawl's do after Scrapy decodes them.
UNDONE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/1."
SCAN_CHUNK = 1 << 20
RECORD_TYPES = {"warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation"}
# What a damaged record raises inside warcio and the decompressors.
DAMAGE = (ArchiveLoadFailed, zlib.error, EOFError, ValueError, OSError, zipfile.BadZipFile)


class ArchiveFileError(Exception):
    """A web archive file that cannot be read at all (missing, refused, not a WARC or WACZ)."""


@dataclass
class FileReport:
    """What one file gave: records by what became of them, and the damaged places."""

    location: str
    counts: Counter = field(default_factory=Counter)
    damage: list[dict] = field(default_factory=list)  # {"member", "offset", "error"}

    def damaged(self, member: str | None, offset: int, error: str) -> None:
        """A damaged stretch of the file, skipped: no record in it could be read."""
        self.counts["damaged"] += 1
        self.problem(member, offset, error)

    def unreadable(self, error: str) -> None:
        """The file could not be read at all (or no further)."""
        self.counts["errors"] += 1
        self.problem(None, None, error)

    def problem(self, member: str | None, offset: int | None, error: str) -> None:
        self.damage.append({"member": member, "offset": offset, "error": error})


@dataclass(frozen=True)
class Provenance:
    """Fixed for the whole import: which run, which spider, which source."""

    crawl_run_id: str
    spider: str = "import"
    source: str = "warc"


# --- opening: local files, downloads, WACZ members ---------------------------------


@contextmanager
def local_copy(location: str, policy: AddressPolicy, user_agent: str) -> Iterator[Path]:
    """The file at a path, or an HTTP(S) URL's file downloaded to a temporary file (streamed to
    disk, never held in memory; deleted afterwards). Reading from a seekable file lets the
    reader skip a damaged record and go on with the next one."""
    if urlsplit(location).scheme in ("http", "https"):
        with tempfile.TemporaryDirectory(prefix="clippings-import-") as scratch:
            path = Path(scratch) / (Path(urlsplit(location).path).name or "download.warc")
            download(location, path, policy, user_agent)
            yield path
        return
    path = Path(location)
    if "://" in location:
        raise ArchiveFileError(f"{location}: only local paths and http(s) URLs can be imported")
    if not path.is_file():
        raise ArchiveFileError(f"{location}: no such file")
    yield path


def download(url: str, path: Path, policy: AddressPolicy, user_agent: str) -> None:
    """Stream the URL's body to path; the fetch guard's address policy applies to the host and
    to every redirect."""
    check_url(url, policy)
    opener = urllib.request.build_opener(_GuardedRedirects(policy))
    request = urllib.request.Request(url, headers={"User-Agent": user_agent})
    try:
        with opener.open(request, timeout=DOWNLOAD_TIMEOUT) as response, path.open("wb") as out:
            shutil.copyfileobj(response, out, SCAN_CHUNK)
    except urllib.error.HTTPError as error:
        raise ArchiveFileError(f"{url}: the server answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ArchiveFileError(f"{url}: cannot download ({reason})") from None


def check_url(url: str, policy: AddressPolicy) -> None:
    """Refuse a URL whose host is (or resolves to) an address the policy refuses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ArchiveFileError(f"{url}: only http and https URLs can be downloaded")
    for address in _addresses(parts.hostname, parts.port):
        if reason := policy.refusal(address):
            raise ArchiveFileError(f"{url}: refused, {reason} (allow it with --allow-network)")


def _addresses(host: str, port: int | None) -> list:
    if literal := literal_address(host):
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise ArchiveFileError(f"cannot resolve {host}: {error.strerror}") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, policy: AddressPolicy):
        self.policy = policy

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, self.policy)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def warc_members(path: Path) -> list[str | None]:
    """The WARC files inside a WACZ (from its datapackage.json, else archive/*.warc*), or
    [None] for a plain WARC file."""
    if not zipfile.is_zipfile(path):
        _check_warc_start(path)
        return [None]
    try:
        with zipfile.ZipFile(path) as wacz:
            names = set(wacz.namelist())
            listed = _datapackage_paths(wacz) if "datapackage.json" in names else []
    except DAMAGE as error:
        raise ArchiveFileError(f"{path}: not a readable WACZ ({error})") from None
    members = [p for p in listed if p in names] or sorted(n for n in names if _is_archive_member(n))
    if not members:
        raise ArchiveFileError(f"{path}: a zip file with no archive/*.warc or *.warc.gz inside; not a WACZ")
    return members


def _check_warc_start(path: Path) -> None:
    """A WARC starts with its version line (or a gzip member holding it); an ARC file, which
    warcio reads too, with filedesc://. Anything else is not a web archive file."""
    with path.open("rb") as stream:
        start = stream.read(16)
    if not start.startswith((GZIP_MAGIC, WARC_MAGIC, b"filedesc://")):
        shown = start.decode("ascii", "replace").encode("unicode_escape").decode()
        raise ArchiveFileError(f"{path}: not a WARC, WARC.gz or WACZ file (it starts with {shown!r})")


def _datapackage_paths(wacz: zipfile.ZipFile) -> list[str]:
    try:
        package = json.loads(wacz.read("datapackage.json"))
        return [r["path"] for r in package.get("resources", []) if _is_archive_member(r.get("path", ""))]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def _is_archive_member(name: str) -> bool:
    return name.startswith("archive/") and name.endswith((".warc", ".warc.gz"))


@contextmanager
def open_member(path: Path, member: str | None) -> Iterator[BinaryIO]:
    """The WARC stream: the file itself, or a member of the WACZ (seekable either way)."""
    if member is None:
        with path.open("rb") as stream:
            yield stream
        return
    with zipfile.ZipFile(path) as wacz, wacz.open(member) as stream:
        yield stream


# --- reading records ---------------------------------------------------------------


def read_pages(stream: BinaryIO, record_file: str, member: str | None, report: FileReport,
               prefilter: Prefilter | None, provenance: Provenance) -> Iterator[FetchedPage]:
    """The file's HTML responses (status 200) that may name the topic, one at a time.

    Other records are counted by what they are. A damaged record is reported (member, byte
    offset, error) and reading goes on at the next record start found after it; a truncated
    file ends there."""
    offset: int | None = 0
    resyncing = False  # one damaged stretch is one report, however many false starts it has
    while offset is not None:
        stream.seek(offset)
        records = ArchiveIterator(stream, check_digests=False)
        position = offset
        try:
            for record in records:
                page = _page(record, records, record_file, report, prefilter, provenance)
                position = records.get_record_offset() + records.get_record_length()
                resyncing = False
                if page is not None:
                    yield page
            _check_ended(stream, position)
            offset = None
        except DAMAGE as error:
            if not resyncing:
                report.damaged(member, position, _describe(error))
            resyncing = True
            offset = _next_record_start(stream, position + 1)


def _check_ended(stream: BinaryIO, position: int) -> None:
    """warcio stops quietly at a record it cannot find the start of, or at a gzip member cut
    short: anything but blank space after the last whole record is damage."""
    stream.seek(position)
    if stream.read(SCAN_CHUNK).strip(b"\r\n \t\x00"):
        raise EOFError("no complete WARC record here (truncated, or not a record start)")


def _page(record, records: ArchiveIterator, record_file: str, report: FileReport,
          prefilter: Prefilter | None, provenance: Provenance) -> FetchedPage | None:
    """The record as a page, or None with the reason counted. Reads the record to its end."""
    if record.rec_type not in RECORD_TYPES:
        raise ArchiveLoadFailed(f"unknown WARC record type {record.rec_type!r}")
    kind = _skip_reason(record)
    if kind is None:
        body = record.content_stream().read(MAX_BODY + 1)
        headers = _headers(record)
        content_type = (headers.get("content-type") or [None])[0]
        kind = _body_skip_reason(body, content_type, prefilter)
    records.read_to_end(record)
    if missing := getattr(record.raw_stream, "limit", 0):
        raise EOFError(f"record cut short: {missing} bytes of its {record.length} missing")
    report.counts["records"] += 1
    if kind is not None:
        report.counts[kind] += 1
        return None
    report.counts["pages"] += 1
    url = record.rec_headers.get_header("WARC-Target-URI")
    return FetchedPage(
        url=url, final_url=url, status=200, headers=headers, body=body, fetched_at=utc_now(),
        spider=provenance.spider, crawl_run_id=provenance.crawl_run_id, source=provenance.source,
        archived_at=warc_date(record.rec_headers.get_header("WARC-Date")), record_file=record_file,
        record_offset=records.get_record_offset(), record_length=records.get_record_length(),
    )


def _skip_reason(record) -> str | None:
    if record.rec_type == "revisit":
        return "skipped_revisit"
    if record.rec_type != "response" or record.http_headers is None:
        return "skipped_not_response"
    if not record.rec_headers.get_header("WARC-Target-URI", "").startswith(("http://", "https://")):
        return "skipped_not_response"
    if record.http_headers.get_statuscode() != "200":
        return "skipped_status"
    content_type = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
    if content_type and content_type not in HTML_TYPES:
        return "skipped_not_html"
    return None


def _body_skip_reason(body: bytes, content_type: str | None, prefilter: Prefilter | None) -> str | None:
    if len(body) > MAX_BODY:
        return "skipped_too_large"
    if prefilter is not None and not prefilter.may_match(body, content_type):
        return "prefiltered_out"
    return None


def _headers(record) -> dict[str, list[str]]:
    headers: dict[str, list[str]] = {}
    for name, value in record.http_headers.headers:
        if name.lower() not in UNDONE_HEADERS:
            headers.setdefault(name.lower(), []).append(value)
    return headers


def _describe(error: Exception) -> str:
    """The error in one readable line (warcio quotes the bad bytes: a few are enough)."""
    text = " ".join(str(error).split()) or type(error).__name__
    text = "".join(c if c.isprintable() and c.isascii() else f"\\x{ord(c):02x}" for c in text[:400])
    return text if len(text) <= 160 else text[:160] + "..."


def _next_record_start(stream: BinaryIO, start: int) -> int | None:
    """Where the next record may begin after a damaged one: the next gzip member in a
    compressed WARC, the next WARC/1.x header line in a plain one."""
    stream.seek(0)
    magic = GZIP_MAGIC if stream.read(2) == GZIP_MAGIC[:2] else b"\n" + WARC_MAGIC
    stream.seek(start)
    position, carry = start, b""
    while chunk := stream.read(SCAN_CHUNK):
        window = carry + chunk
        found = window.find(magic)
        if found >= 0:
            return position - len(carry) + found + (1 if magic.startswith(b"\n") else 0)
        carry = window[-len(magic):]
        position += len(chunk)
    return None


def warc_date(value: str | None) -> str | None:
    """A WARC-Date (2017-10-16T12:00:00Z, maybe with fractions) as ISO 8601 UTC to the second."""
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="seconds")


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
