"""Web archive files as pages: WARC (gzipped or not) and WACZ, local or over HTTP(S), read
record by record (pipelines/sources/warcrecords.py) into FetchedPages, with what was skipped and what
was damaged counted."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
import struct
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from pipelines.core.addresses import AddressPolicy
from pipelines.core.analysis import HTML_TYPES
from pipelines.core.items import FetchedPage
from pipelines.core.prefilter import Prefilter
from pipelines.sources.downloads import DownloadError, DownloadLimits, download
from pipelines.sources.httpmessages import ArchivedResponse, BodyTooLarge, UnreadableResponse, decoded_body, parse_response
from pipelines.sources.warcrecords import GZIP_MAGIC, HEAD_LIMIT, INFLATION_SLACK, Damage, WarcRecord, read_records

# What reading a page's counts go under (the writer's own counts are in pipelines/jobs/imports.py).
READ_COUNTS = (
    "records",
    "pages",
    "prefiltered_out",
    "skipped_not_response",
    "skipped_revisit",
    "skipped_status",
    "skipped_not_html",
    "skipped_too_large",
    "takedowns_skipped",
    "damaged",
)
LOCAL_HEADER = struct.Struct("<4s22xHH")  # a zip member's local header: signature, ..., name and extra lengths
# Problems listed per file (the counts count them all): a file damaged everywhere must not
# fill the memory, nor the import_files row rewritten with each batch.
PROBLEMS_LISTED = 100


class ArchiveFileError(Exception):
    """A web archive file that cannot be read at all (missing, refused, not a WARC or WACZ)."""


@dataclass(frozen=True)
class ReadLimits:
    """How much reading a file may take: the largest page (DOWNLOAD_MAXSIZE, as in the crawl)
    and how far a gzip member may inflate (WARC_MAX_INFLATION)."""

    max_body: int
    max_inflation: int


@dataclass
class FileReport:
    """What one file gave: records by what became of them, and the damaged places."""

    location: str
    counts: Counter = field(default_factory=Counter)
    damage: list[dict] = field(default_factory=list)  # {"member", "offset", "error"}: found reading
    failures: list[dict] = field(default_factory=list)  # the same, for pages whose analysis failed

    def damaged(self, member: str | None, offset: int | None, error: str) -> None:
        """A damaged stretch or record, skipped: nothing in it could be read."""
        self.counts["damaged"] += 1
        if len(self.damage) < PROBLEMS_LISTED:
            self.damage.append({"member": member, "offset": offset, "error": describe(error)})

    def unreadable(self, error: str) -> None:
        """The file could not be read at all (or no further)."""
        self.counts["errors"] += 1
        if len(self.damage) < PROBLEMS_LISTED:
            self.damage.append({"member": None, "offset": None, "error": describe(error)})

    @property
    def problems(self) -> list[dict]:
        return self.damage + self.failures

    def has_problems(self) -> bool:
        return bool(self.counts["damaged"] or self.counts["errors"])

    def reading_mark(self) -> tuple[Counter, int]:
        """What reading has counted so far: kept with a page, stored with its batch."""
        return Counter({name: self.counts[name] for name in READ_COUNTS}), len(self.damage)


@dataclass(frozen=True)
class Provenance:
    """Fixed for the whole import: which run, which spider, which source."""

    crawl_run_id: str
    spider: str = "import"
    source: str = "warc"


# --- opening: local files, downloads, WACZ members ---------------------------------


@contextmanager
def local_copy(location: str, policy: AddressPolicy, user_agent: str, limits: DownloadLimits) -> Iterator[Path]:
    """The file at a path, or an HTTP(S) URL's file downloaded to a temporary file (streamed to
    disk, never held in memory; deleted afterwards). Reading from a seekable file lets the
    reader skip a damaged record and go on with the next one."""
    if urlsplit(location).scheme in ("http", "https"):
        with tempfile.TemporaryDirectory(prefix="clippings-import-") as scratch:
            path = Path(scratch) / (Path(urlsplit(location).path).name or "download.warc")
            try:
                with path.open("wb") as out:
                    download(location, out, policy, user_agent, limits)
            except DownloadError as error:
                raise ArchiveFileError(str(error)) from None
            yield path
        return
    path = Path(location)
    if "://" in location:
        raise ArchiveFileError(f"{location}: only local paths and http(s) URLs can be imported")
    if not path.is_file():
        raise ArchiveFileError(f"{location}: no such file")
    yield path


def warc_members(path: Path) -> list[str | None]:
    """The WARC files inside a WACZ (from its datapackage.json, else archive/*.warc*), each
    once, or [None] for a plain WARC file."""
    if not zipfile.is_zipfile(path):
        _check_warc_start(path)
        return [None]
    try:
        with zipfile.ZipFile(path) as wacz:
            names = set(wacz.namelist())
            listed = _datapackage_paths(wacz) if "datapackage.json" in names else []
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ArchiveFileError(f"{path}: not a readable WACZ ({error})") from None
    members = list(dict.fromkeys(p for p in listed if p in names)) or sorted(n for n in names if _is_archive_member(n))
    if not members:
        raise ArchiveFileError(f"{path}: a zip file with no archive/*.warc or *.warc.gz inside; not a WACZ")
    return members


def _check_warc_start(path: Path) -> None:
    """A WARC starts with its version line (or a gzip member holding it). Anything else is not
    a web archive file."""
    with path.open("rb") as stream:
        start = stream.read(16)
    if not start.startswith((GZIP_MAGIC, b"WARC/")):
        shown = start.decode("ascii", "replace").encode("unicode_escape").decode()
        raise ArchiveFileError(f"{path}: not a WARC, WARC.gz or WACZ file (it starts with {shown!r})")


def _datapackage_paths(wacz: zipfile.ZipFile) -> list[str]:
    try:
        package = json.loads(wacz.read("datapackage.json"))
        return [r["path"] for r in package.get("resources", []) if _is_archive_member(r.get("path", ""))]
    except (ValueError, TypeError, KeyError, AttributeError, zipfile.BadZipFile, OSError):
        return []


def _is_archive_member(name: str) -> bool:
    return isinstance(name, str) and name.startswith("archive/") and name.endswith((".warc", ".warc.gz"))


class MemberError(Exception):
    """A WACZ member that cannot be opened (encrypted, a bomb, a broken zip entry): damage."""


@contextmanager
def open_member(path: Path, member: str | None, max_inflation: int) -> Iterator[BinaryIO]:
    """The WARC stream: the file itself, or a member of the WACZ, seekable cheaply either way
    (a zip member's own stream goes back to its start for every step back): a stored member
    (as Browsertrix writes them) is read in place, a compressed one inflated to a temporary file."""
    if member is None:
        with path.open("rb") as stream:
            yield stream
        return
    with zipfile.ZipFile(path) as wacz:
        info = wacz.getinfo(member)
        if info.flag_bits & 0x1:
            raise MemberError("an encrypted zip member")
        if info.compress_type == zipfile.ZIP_STORED:
            with path.open("rb") as outer:
                yield _Slice(outer, _data_offset(outer, info), info.file_size)
            return
        if info.file_size > max(INFLATION_SLACK, max_inflation * info.compress_size):
            raise MemberError(f"a zip member inflating to more than {max_inflation} times its size (a decompression bomb?)")
        with tempfile.TemporaryFile(prefix="clippings-member-") as spool:
            try:
                with wacz.open(info) as stream:
                    shutil.copyfileobj(stream, spool, 1 << 20)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
                raise MemberError(f"a broken zip member ({error})") from None
            spool.seek(0)
            yield spool


def _data_offset(outer: BinaryIO, info: zipfile.ZipInfo) -> int:
    outer.seek(info.header_offset)
    signature, name_length, extra_length = LOCAL_HEADER.unpack(outer.read(LOCAL_HEADER.size))
    if signature != b"PK\x03\x04":
        raise MemberError("a zip member whose local header is missing")
    return info.header_offset + LOCAL_HEADER.size + name_length + extra_length


class _Slice(io.RawIOBase):
    """length bytes of a file from offset on, as a file of their own."""

    def __init__(self, outer: BinaryIO, offset: int, length: int):
        self.outer, self.offset, self.length, self.position = outer, offset, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.length}[whence]
        self.position = min(max(base + offset, 0), self.length)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        size = self.length - self.position if size < 0 else min(size, self.length - self.position)
        self.outer.seek(self.offset + self.position)
        data = self.outer.read(size)
        self.position += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


# --- reading records ---------------------------------------------------------------


def read_pages(
    stream: BinaryIO,
    record_file: str,
    member: str | None,
    report: FileReport,
    prefilter: Prefilter | None,
    provenance: Provenance,
    limits: ReadLimits,
) -> Iterator[FetchedPage]:
    """The file's HTML responses (status 200) that may name the topic, one at a time.

    Other records are counted by what they are. A damaged stretch is reported (member, byte
    offset, error) and reading goes on at the next record start found after it; a record whose
    HTTP response cannot be read (a broken head, an undecodable body) is reported the same way."""
    keep = _keeper(limits.max_body)
    for item in read_records(stream, keep, limits.max_inflation):
        if isinstance(item, Damage):
            report.damaged(member, item.offset, item.reason)
            continue
        report.counts["records"] += 1
        try:
            page = _page(item, record_file, report, prefilter, provenance, limits)
        except UnreadableResponse as error:
            report.damaged(member, item.offset, f"{item.target_uri}: {error}")
            continue
        if page is not None:
            yield page


def _keeper(max_body: int):
    def keep(headers: dict[str, str]) -> int:
        """All of an HTTP(S) response up to the largest page; nothing of other records."""
        wanted = headers.get("warc-type") == "response" and headers.get("warc-target-uri", "").lstrip("<").startswith(
            ("http://", "https://")
        )
        return max_body + HEAD_LIMIT if wanted else 0

    return keep


def _page(
    record: WarcRecord,
    record_file: str,
    report: FileReport,
    prefilter: Prefilter | None,
    provenance: Provenance,
    limits: ReadLimits,
) -> FetchedPage | None:
    """The record as a page, or None with the reason counted."""
    kind, body, response = _skip_reason(record), None, None
    if kind is None:
        response = parse_response(record.block, complete=len(record.block) == record.block_length)
        kind = _response_skip_reason(response.status, response.content_type())
    if kind is None:
        try:
            body = decoded_body(response, limits.max_body)
        except BodyTooLarge:
            kind = "skipped_too_large"
        else:
            if prefilter is not None and not prefilter.may_match(body, response.header("content-type")):
                kind = "prefiltered_out"
    if kind is not None:
        report.counts[kind] += 1
        return None
    report.counts["pages"] += 1
    return archived_page(record, response, body, provenance, record_file, record.offset, record.length)


def archived_page(
    record: WarcRecord,
    response: ArchivedResponse,
    body: bytes,
    provenance: Provenance,
    record_file: str | None,
    offset: int | None,
    length: int | None,
    url: str | None = None,
) -> FetchedPage:
    """A WARC response record as the pipelines take a page, wherever the record came from (a
    file imported, a record the commoncrawl spider fetched): `body` is the response's, decoded;
    `offset` and `length` where the record lies in `record_file`; `url` when the record names none."""
    url = record.target_uri or url
    return FetchedPage(
        url=url,
        final_url=url,
        status=200,
        headers=response.page_headers(),
        body=body,
        fetched_at=utc_now(),
        spider=provenance.spider,
        crawl_run_id=provenance.crawl_run_id,
        source=provenance.source,
        archived_at=warc_date(record.headers.get("warc-date")),
        record_file=record_file,
        record_offset=offset,
        record_length=length,
    )


def _skip_reason(record: WarcRecord) -> str | None:
    if record.type == "revisit":
        return "skipped_revisit"
    if record.type != "response" or not record.target_uri.startswith(("http://", "https://")):
        return "skipped_not_response"
    return None


def _response_skip_reason(status: int, content_type: str) -> str | None:
    if status != 200:
        return "skipped_status"
    if content_type and content_type not in HTML_TYPES:
        return "skipped_not_html"
    return None


def describe(error: str) -> str:
    """An error in one readable line: it may quote the file's bytes (a URL, a header), which
    must not reach a terminal or a page as control characters, nor at length."""
    text = " ".join(str(error).split())
    text = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text[:600])
    return text if len(text) <= 300 else text[:300] + "..."


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
