"""Loopback sites for the tests: one HTTP server on 127.0.0.1 (port 0) that a test describes as
data (a dict of paths to answers or routes, a folder, the Wayback Machine's CDX dialect), with the
hostile behaviours the fault tests need and a hook that acts (kills a crawl, say) when a given
request arrives. docs/development.md says how to write a test against one."""

from .answers import (
    binary,
    drip_body,
    drip_headers,
    fail_first,
    gzip_bomb,
    hang,
    html,
    page,
    redirect,
    reset,
    sitemap,
    truncated,
    unannounced,
)
from .files import Files
from .interrupt import kill_group
from .press import DAY, article_html, site_with_sitemap
from .server import NOT_FOUND, Answer, Handler, Route, Site
from .wayback import Wayback

__all__ = [
    "DAY",
    "NOT_FOUND",
    "Answer",
    "Files",
    "Handler",
    "Route",
    "Site",
    "Wayback",
    "article_html",
    "binary",
    "drip_body",
    "drip_headers",
    "fail_first",
    "gzip_bomb",
    "hang",
    "html",
    "kill_group",
    "page",
    "redirect",
    "reset",
    "site_with_sitemap",
    "sitemap",
    "truncated",
    "unannounced",
]
