"""Web archive files and CC-NEWS listings over HTTP(S) for `clippings import`.

Only to addresses the fetch guard's policy allows, checked after DNS and on every redirect, and
connected to as checked (a second lookup could answer otherwise); within a total deadline, which
a server sending a byte at a time cannot stretch (a timer shuts the connection down); within a
size cap; and resumed with a Range request where a connection breaks in the middle of a file."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

from pipelines.core.addresses import AddressPolicy, literal_address

CHUNK = 1 << 20
REDIRECTS = 10
RESUMES = 5  # broken connections one download may go on from
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
IDLE_TIMEOUT = 60.0  # seconds without a byte: the connection is taken as broken, and resumed


class DownloadError(Exception):
    """The file could not be downloaded; the message says which URL and why."""


class NotFound(DownloadError):
    """The server answered 404 or 410: there is no such file."""


class _Broken(Exception):
    """The connection broke before the whole body came: worth a Range request for the rest."""


@dataclass(frozen=True)
class DownloadLimits:
    timeout: float  # seconds for the whole download, redirects and resumptions included
    max_size: int  # bytes


def download(url: str, out: BinaryIO, policy: AddressPolicy, user_agent: str, limits: DownloadLimits) -> None:
    """The URL's body written to `out` (a file open for writing, or a BytesIO)."""
    check_url(url, policy)
    with _Deadline(url, limits.timeout) as deadline:
        written, resumes = 0, 0
        while True:
            try:
                _fetch(url, out, written, policy, user_agent, limits, deadline)
                return
            except _Broken as broken:
                written = out.tell()
                resumes += 1
                if deadline.expired or resumes > RESUMES:
                    raise deadline.error() if deadline.expired else DownloadError(f"{url}: {broken}") from None


def check_url(url: str, policy: AddressPolicy) -> list:
    """The addresses a URL's host resolves to, all of which the policy allows; else DownloadError."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadError(f"{url}: only http and https URLs can be downloaded")
    addresses = _addresses(parts.hostname, parts.port)
    for address in addresses:
        if reason := policy.refusal(address):
            raise DownloadError(f"{url}: refused, {reason} (allow it with --allow-network or -s ALLOWED_PRIVATE_NETWORKS)")
    return addresses


def _addresses(host: str, port: int | None) -> list:
    if literal := literal_address(host):
        return [literal]
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise DownloadError(f"cannot resolve {host}: {error.strerror}") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def _fetch(
    url: str, out: BinaryIO, start: int, policy: AddressPolicy, user_agent: str, limits: DownloadLimits, deadline: _Deadline
) -> None:
    """One request (with its redirects) for the body from byte `start` on, appended to out."""
    try:
        connection, response, url = _open(url, start, policy, user_agent, deadline)
    except (OSError, http.client.HTTPException) as error:
        if deadline.expired:
            raise deadline.error() from None
        if start and isinstance(error, (ConnectionError, http.client.RemoteDisconnected)):
            raise _Broken(f"the connection broke ({error})") from None
        raise DownloadError(f"{url}: cannot download ({getattr(error, 'reason', None) or error})") from None
    try:
        _check_answer(url, response, start, limits, out)
        _copy(response, out, limits, deadline, url)
    finally:
        connection.close()


def _open(url: str, start: int, policy: AddressPolicy, user_agent: str, deadline: _Deadline):
    headers = {"User-Agent": user_agent, "Accept-Encoding": "identity"}
    if start:
        headers["Range"] = f"bytes={start}-"
    for _ in range(REDIRECTS + 1):
        parts = urlsplit(url)
        connection = _connection(parts, check_url(url, policy)[0], min(IDLE_TIMEOUT, deadline.remaining()))
        deadline.watch(connection)
        connection.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""), headers=headers)
        response = connection.getresponse()
        location = response.getheader("Location")
        if response.status not in REDIRECT_STATUSES or not location:
            return connection, response, url
        connection.close()
        url = urljoin(url, location)
    raise DownloadError(f"{url}: more than {REDIRECTS} redirects")


def _check_answer(url: str, response: http.client.HTTPResponse, start: int, limits: DownloadLimits, out: BinaryIO) -> None:
    """A 200 (from the start: a server that ignores Range sends it all again) or the 206 asked for."""
    if response.status in (404, 410):
        raise NotFound(f"{url}: the server answered {response.status} {response.reason}")
    if response.status == 206 and start and _range_start(response) == start:
        total = start + (response.length or 0)
    elif response.status == 200:
        out.seek(0)
        out.truncate()
        total = response.length or 0
    else:
        raise DownloadError(f"{url}: the server answered {response.status} {response.reason}")
    if total > limits.max_size:
        raise DownloadError(f"{url}: {total} bytes, more than IMPORT_DOWNLOAD_MAXSIZE ({limits.max_size})")


def _range_start(response: http.client.HTTPResponse) -> int | None:
    value = (response.getheader("Content-Range") or "").removeprefix("bytes ")
    first = value.partition("-")[0]
    return int(first) if first.isdigit() else None


def _copy(response: http.client.HTTPResponse, out: BinaryIO, limits: DownloadLimits, deadline: _Deadline, url: str) -> None:
    try:
        while chunk := response.read1(CHUNK):
            if deadline.expired:
                raise deadline.error()
            out.write(chunk)
            if out.tell() > limits.max_size:
                raise DownloadError(f"{url}: more than IMPORT_DOWNLOAD_MAXSIZE ({limits.max_size}) bytes")
    except (OSError, http.client.HTTPException) as error:
        if deadline.expired:
            raise deadline.error() from None
        raise _Broken(f"the connection broke after {out.tell()} bytes ({type(error).__name__})") from None
    if deadline.expired:
        raise deadline.error()
    if response.length:  # the server closed the connection before sending all it announced
        raise _Broken(f"the connection closed {response.length} bytes before the end")


# --- connections -------------------------------------------------------------------


def _connection(parts, address, timeout: float) -> http.client.HTTPConnection:
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if parts.scheme == "https":
        return _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
    return _PinnedHTTPConnection(parts.hostname, port, address, timeout)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address the policy checked, whatever DNS answers now."""

    def __init__(self, host: str, port: int, address, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = str(address)

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self) -> None:
        super().connect()
        self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)


class _Deadline:
    """The total time a download may take. When it is over, the open connection is shut down,
    which ends a read however slowly the server sends."""

    def __init__(self, url: str, seconds: float):
        self.url, self.seconds = url, seconds
        self.ends = time.monotonic() + seconds
        self.expired = False
        self.connection: http.client.HTTPConnection | None = None
        self.lock = threading.Lock()
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self.timer.cancel()

    def remaining(self) -> float:
        left = self.ends - time.monotonic()
        if left <= 0 or self.expired:
            raise self.error()
        return left

    def watch(self, connection: http.client.HTTPConnection) -> None:
        with self.lock:
            self.connection = connection

    def _expire(self) -> None:
        with self.lock:
            self.expired = True
            sock = self.connection.sock if self.connection else None
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass  # already closed

    def error(self) -> DownloadError:
        return DownloadError(f"{self.url}: not downloaded within {self.seconds:g} s (IMPORT_DOWNLOAD_TIMEOUT)")
