"""Press pages for loopback sites: an on-topic article, and a site whose sitemap lists its routes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .answers import page, sitemap
from .server import Answer, Route, Site

DAY = "2017/10/16"


def article_html(
    slug: str,
    title: str = "Weinstein accusers speak out",
    *,
    charset: str | None = "utf-8",
    extra: str = "",
    published: str = "2017-10-16",
) -> str:
    """An on-topic article, distinct from every other by its slug, dated in the window."""
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"""<!doctype html><html lang="en"><head>{meta}<title>{title}</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="{published}T09:00:00Z"></head><body>
<article><h1>{title}</h1>
<p>Story {slug}. More women said on Monday that the producer Harvey Weinstein had harassed or assaulted
them, and described years of sexual harassment in hotel rooms presented as business meetings.</p>
<p>{extra}The accounts, gathered by reporters over several months, describe a pattern that colleagues
say was an open secret in the film industry, and a system of settlements and confidentiality clauses that
kept it quiet for decades while careers were made and broken.</p>
<p>Lawyers for Mr. Weinstein said he denied any allegation of non-consensual sex, and the company's board
said it would review the claims with outside counsel before deciding what to do next about the matter.</p>
</article></body></html>"""


@contextmanager
def site_with_sitemap(routes: dict[str, Answer | Route]) -> Iterator[Site]:
    """A Site serving `routes`, with a sitemap listing them all."""
    with Site(routes) as running:
        running.routes["/sitemap.xml"] = page(sitemap([running.url(path) for path in routes]))
        yield running
