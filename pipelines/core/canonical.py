"""Canonical URLs: one spelling per article, whatever tracking, AMP or mobile variant was fetched."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMETERS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ocid|cmpid|CMP|smid|smtyp"
    r"|src|ref|ref_src|rss|partner|mbid|ito|__twitter_impression|_ga|share|amp|outputType|output)$",
    re.IGNORECASE,
)
WEB_SCHEMES = ("http", "https")
# Whitespace and control characters: browsers strip them from a link before reading its scheme,
# so that "java\tscript:" runs as javascript:.
UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")
MOBILE_HOST = re.compile(r"^(m|mobile|amp)\.")
AMP_PATH = re.compile(r"(/amp/?$|/amp(?=/)|\.amp(?=\.html?$)|\.amp$)")


def canonical_url(url: str, declared: str | None = None) -> str:
    """The canonical spelling of an article URL.

    A rel=canonical the page declares is trusted only when it is an http(s) address on the same
    site (syndicated copies point to their original, and must stay copies, not vanish into it;
    a javascript: or data: URL is a link to run, not an address). A trailing slash is kept, so
    the URL still answers; the archive's URL key ignores it. Whitespace and control characters
    are percent-encoded.
    """
    if declared and web_url(declared) and same_site(url, declared):
        url = declared
    parts = urlsplit(url.strip())
    host = MOBILE_HOST.sub("www." if parts.hostname and parts.hostname.count(".") > 1 else "", (parts.netloc or "").lower())
    host = _drop_default_port(parts.scheme.lower(), host)
    path = AMP_PATH.sub("", parts.path) or "/"
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMETERS.match(k))
    )
    spelled = urlunsplit((parts.scheme.lower(), host, path, query, ""))
    return UNSAFE_CHARACTERS.sub(lambda found: f"%{ord(found.group()):02X}", spelled)


def web_url(url: object) -> str | None:
    """The URL itself when following it leads to a web page: http or https, with a host, and no
    whitespace or control characters. None for anything else (javascript:, data:, vbscript:,
    file:, a relative or broken URL): what an archived page declares may be a script to run."""
    if not isinstance(url, str) or UNSAFE_CHARACTERS.search(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return url if parts.scheme.lower() in WEB_SCHEMES and host else None


def same_site(a: str, b: str) -> bool:
    """Same host once www., mobile and AMP prefixes are set aside."""
    return _bare_host(a) == _bare_host(b) and bool(_bare_host(a))


def _bare_host(url: str) -> str:
    netloc = (urlsplit(url).netloc or "").lower()
    return re.sub(r"^(www|m|mobile|amp)\.", "", netloc)


def _drop_default_port(scheme: str, netloc: str) -> str:
    default = {"http": ":80", "https": ":443"}.get(scheme)
    return netloc[: -len(default)] if default and netloc.endswith(default) else netloc
