"""Fetch safety: non-public addresses (listed, redirected to, or behind a name) are never requested."""

import ipaddress
import sqlite3

import pytest

from crawlers.scope import Scope
from pipelines.core.addresses import AddressPolicy

from .conftest import scrapy_crawl
from .sites import Site, article_html, html, page, redirect, sitemap

# Listed in the sitemap: never contacted, because the guard refuses them before any connection.
PRIVATE_URLS = {
    "http://10.255.255.1/2017/10/16/private/": "10.255.255.1 is not a public address (private)",
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is not a public address (link-local)",
    "http://192.168.0.1/2017/10/16/router/": "192.168.0.1 is not a public address (private)",
    "http://224.0.0.1/2017/10/16/multicast/": "224.0.0.1 is not a public address (multicast)",
}
HOSTS = ("10.255.255.1", "169.254.169.254", "192.168.0.1", "224.0.0.1", "0.0.0.0")


def failures(db):
    conn = sqlite3.connect(db)
    try:
        return dict(conn.execute("SELECT url, error FROM fetch_failures"))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def guarded_crawl(tmp_path_factory):
    """A sitemap crawl with loopback 127.0.0.1 allowed (the site) and nothing else private."""
    routes = {
        "/2017/10/16/fine/": page(html(article_html("fine"))),
        "/2017/10/16/to-private/": redirect("http://10.255.255.1/2017/10/16/hidden/"),
        "/2017/10/16/to-metadata/": redirect("http://169.254.169.254/latest/", 301),
        "/2017/10/16/to-file/": redirect("file:///etc/passwd"),
    }
    with Site(routes) as site:
        port = site.server.server_address[1]
        # 0.0.0.0 reaches this very server on Linux: only the guard keeps the request away.
        unspecified = f"http://0.0.0.0:{port}/2017/10/16/unspecified/"
        listed = [*PRIVATE_URLS, unspecified, *(site.url(path) for path in routes)]
        routes["/sitemap.xml"] = page(sitemap(listed))
        tmp_path = tmp_path_factory.mktemp("guarded")
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic(domains=HOSTS))
        yield site, db, failures(db), unspecified


@pytest.mark.parametrize("url, reason", PRIVATE_URLS.items())
@pytest.mark.slow
def test_fetch_guard_refuses_listed_private_address(guarded_crawl, url, reason):
    site, db, failed, unspecified = guarded_crawl
    assert failed[url] == f"BlockedRequest: blocked {url}: {reason} and not in ALLOWED_PRIVATE_NETWORKS"


@pytest.mark.slow
def test_fetch_guard_refuses_unspecified_address_that_would_reach_the_site(guarded_crawl):
    site, db, failed, unspecified = guarded_crawl
    assert "0.0.0.0 is not a public address (unspecified)" in failed[unspecified]
    assert site.asked("/2017/10/16/unspecified/") == 0
    assert site.asked("/2017/10/16/fine/") == 1  # the allowed network is fetched


@pytest.mark.slow
@pytest.mark.parametrize(
    "path, target",
    [
        ("/2017/10/16/to-private/", "http://10.255.255.1/2017/10/16/hidden/"),
        ("/2017/10/16/to-metadata/", "http://169.254.169.254/latest/"),
    ],
)
def test_fetch_guard_refuses_redirect_to_private_address(guarded_crawl, path, target):
    site, db, failed, unspecified = guarded_crawl
    assert failed[site.url(path)].startswith(f"BlockedRequest: blocked {target}: ")


@pytest.mark.slow
def test_fetch_guard_redirect_to_file_scheme_is_a_logged_failure(guarded_crawl):
    site, db, failed, unspecified = guarded_crawl
    assert failed[site.url("/2017/10/16/to-file/")] == "HTTP 302 to file:///etc/passwd, not followed"


@pytest.mark.slow
def test_fetch_guard_without_allowed_network_stops_loopback_before_any_request(tmp_path):
    """The control for the tests above: the same reachable site, not allowed, gets no request at all."""
    with Site({"/sitemap.xml": page(sitemap([]))}) as site:
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic(), "-s", "ALLOWED_PRIVATE_NETWORKS=")
        assert site.server.requests == []
    assert "127.0.0.1 is not a public address (loopback)" in failures(db)[site.url("/sitemap.xml")]


@pytest.mark.slow
def test_fetch_guard_checks_the_address_a_name_resolves_to(tmp_path):
    with Site({"/sitemap.xml": page(sitemap([]))}) as site:
        url = site.url("/sitemap.xml").replace("127.0.0.1", "localhost")
        topic = site.topic(domains=("localhost",)).replace(site.url("/sitemap.xml"), url)
        db, log = scrapy_crawl("sitemaps", tmp_path, topic, "-s", "ALLOWED_PRIVATE_NETWORKS=")
        assert site.server.requests == []
    assert (
        f"blocked http://localhost:{site.server.server_address[1]}/sitemap.xml: localhost: 127.0.0.1 is not a public address (loopback)"
        in failures(db)[url]
    )


@pytest.mark.parametrize(
    "address, allowed, refused",
    [
        ("93.184.216.34", [], False),
        ("10.1.2.3", [], True),
        ("10.1.2.3", ["10.0.0.0/8"], False),
        ("127.0.0.2", ["127.0.0.1/32"], True),
        ("::ffff:192.168.1.1", [], True),
        ("fe80::1", [], True),
        ("100.64.0.1", [], True),
        ("2001:4860:4860::8888", [], False),
    ],
)
def test_address_policy(address, allowed, refused):
    assert (AddressPolicy(allowed).refusal(ipaddress.ip_address(address)) is not None) is refused


@pytest.mark.parametrize(
    "url, refused",
    [
        ("http://127.0.0.1:8101/story", None),
        ("http://127.0.0.1:8102/story", "outside the crawl's domains (127.0.0.1:8102)"),
        ("http://127.0.0.1/story", "outside the crawl's domains (127.0.0.1)"),  # port 80 is not 8101
        ("http://127.0.0.1:99999/story", "outside the crawl's domains (127.0.0.1:99999)"),  # no such port
        ("https://www.example.com:8443/story", None),  # a bare domain: its subdomains, any port
        ("http://example.com.evil.test/story", "outside the crawl's domains (example.com.evil.test)"),
        ("http://user@evil.test/story", "outside the crawl's domains (evil.test)"),
    ],
)
def test_scope_matches_host_and_port_as_the_topic_writes_them(url, refused):
    assert Scope(["127.0.0.1:8101", "example.com"]).refusal(url) == refused
