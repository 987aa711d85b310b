"""A researcher's path through the published demo archive, in a real headless Chromium against a real Datasette."""

from __future__ import annotations

import csv
import io
import os
import socket
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from clippings.publish import datasette_command, load_metadata, write_metadata
from tests.serving import stop

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)
SERVER_START_SECONDS = 30
WAIT_SECONDS = 15


@pytest.fixture(scope="session")
def chromium() -> tuple[Path, Path]:
    """The Debian chromium and chromium-driver: skipped without them, except in CI, which installs them."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but {message}")
        pytest.skip(message)
    return CHROMIUM, CHROMEDRIVER


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_serving(url: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"datasette exited with {server.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"datasette did not answer {url} within {SERVER_START_SECONDS}s:\n{log_path.read_text(errors='replace')}")


@pytest.fixture
def served_archive(demo_archive: Path, tmp_path: Path) -> Iterator[str]:
    """The demo archive served by a real `datasette serve` subprocess; yields its base URL."""
    yield from serve(demo_archive, tmp_path)


HOSTILE_TITLE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Injected headline'


@pytest.fixture
def served_hostile_archive(demo_archive: Path, tmp_path: Path) -> Iterator[str]:
    """A copy of the demo archive whose first article's title carries a script, served."""
    hostile = tmp_path / "archive.db"
    hostile.write_bytes(demo_archive.read_bytes())
    with closing(sqlite3.connect(hostile)) as conn:
        conn.execute("UPDATE articles SET title = ? WHERE id = 1", (HOSTILE_TITLE,))
        conn.commit()
    yield from serve(hostile, tmp_path)


def serve(demo_archive: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    metadata = write_metadata(demo_archive, tmp_path / "metadata.json")
    log_path = tmp_path / "datasette.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(datasette_command(demo_archive, port, metadata), stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base_url}/-/versions.json", server, log_path)
        yield base_url
    finally:
        stop(server)


@pytest.fixture
def browser(chromium: tuple[Path, Path], tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = chromium
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(driver_path)))
    driver.set_window_size(1280, 1600)
    try:
        yield driver
    finally:
        driver.quit()


def article_text(db: Path, article_id: str) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()[0]


def articles_columns(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as conn:
        return [column[1] for column in conn.execute("PRAGMA table_info(articles)")]


def screenshot(driver, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"browser-{name}.png"))


@pytest.mark.browser
def test_browser_search_milano_open_article_and_download_csv(chromium, demo_archive, served_archive, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT_SECONDS)
    db = demo_archive.stem

    browser.get(served_archive + "/")
    screenshot(browser, "1-home")
    assert "Weinstein" in browser.title
    # The home page names only the largest tables; the database page lists them all.
    browser.find_element(By.CSS_SELECTOR, f'a[href="/{db}"]').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'a[href="/{db}/articles"]'))).click()
    search_box = wait.until(EC.presence_of_element_located((By.ID, "_search")))
    screenshot(browser, "2-articles")

    search_box.send_keys("Milano")
    search_box.submit()
    wait.until(EC.url_contains("_search=Milano"))
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert rows, "the search for Milano found no articles"
    marks = browser.find_elements(By.CSS_SELECTOR, ".clippings-in-context mark")
    assert marks and all(m.text.lower() == "milano" for m in marks), "no highlighted passage around the match"
    bars = wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#clippings-coverage-chart svg rect[data-count]"))
    assert sum(int(bar.get_attribute("data-count")) for bar in bars) == len(rows)
    screenshot(browser, "3-search")
    csv_href = browser.find_element(By.CSS_SELECTOR, "p.export-links").find_element(By.LINK_TEXT, "CSV").get_attribute("href")

    first_article = rows[0].find_element(By.CSS_SELECTOR, "td.col-id a")
    article_id = first_article.text
    first_article.click()
    fold = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "details.clippings-raw-row")))
    fold.find_element(By.TAG_NAME, "summary").click()  # the raw row is folded below the reading view
    text_cell = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "td.col-text")))
    browser.execute_script("arguments[0].scrollIntoView({inline: 'center'})", text_cell)
    shown = text_cell.text
    screenshot(browser, "4-article")
    assert " ".join(shown.split()) == " ".join(article_text(demo_archive, article_id).split())
    assert "milano" in shown.lower()
    reading = browser.find_element(By.CSS_SELECTOR, ".clippings-article .clippings-text")
    browser.execute_script("arguments[0].scrollIntoView()", reading)
    screenshot(browser, "5-reading-view")
    assert " ".join(reading.text.split()) == " ".join(article_text(demo_archive, article_id).split())

    with urllib.request.urlopen(csv_href, timeout=WAIT_SECONDS) as response:
        downloaded = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"))))
    assert downloaded, "the CSV of the search results is empty"
    assert set(articles_columns(demo_archive)) <= set(downloaded[0])
    assert any("milano" in (row["title"] + " " + row["text"]).lower() for row in downloaded)


@pytest.mark.browser
def test_browser_web_text_never_runs_as_script(chromium, served_hostile_archive, browser):
    from selenium.webdriver.common.by import By

    for path in (
        "/archive/articles/1",
        "/archive/articles?_search=Injected",
        "/archive/search_articles?q=Injected",
        "/archive/articles",
    ):
        browser.get(served_hostile_archive + path)
        assert "Injected headline" in browser.find_element(By.TAG_NAME, "body").text, path
        assert browser.execute_script("return window.__pwned === undefined"), f"a stored title ran as script on {path}"
    screenshot(browser, "6-hostile-title")


@pytest.mark.browser
def test_browser_hostile_canonical_url_is_never_run(chromium, browser, tmp_path):
    """A crawled page declares a script as its canonical URL, and a copy of it another: the
    reading view's links, clicked, go to web pages and run nothing."""
    from contextlib import contextmanager

    from selenium.webdriver.support.ui import WebDriverWait

    from .conftest import scrapy_crawl
    from .sites import DAY, Site, article_html, html, page, sitemap

    with Site({}) as site:
        script = "//{host}/%0Afetch(%22{pwned}%22)".format
        declared = {
            "original": f'<link rel="canonical" href="javascript:{script(host=site.netloc, pwned=site.url("/pwned"))}">',
            "copy": f'<link rel="canonical" href="&#74;aVaScRiPt&#58;{script(host=site.netloc, pwned=site.url("/pwned?by=copy"))}">',
        }
        for name, link in declared.items():
            site.server.routes[f"/{DAY}/{name}/"] = page(html(article_html("hostile").replace("</head>", link + "</head>")))
        site.server.routes["/sitemap.xml"] = page(sitemap([site.url(f"/{DAY}/{name}/") for name in declared]))
        db, log = scrapy_crawl("sitemaps", tmp_path, site.topic())
        with contextmanager(serve)(db, tmp_path) as base_url:
            article = f"{base_url}/archive/articles/1"
            browser.get(article)
            screenshot(browser, "7-hostile-canonical")
            clicked = []
            while len(clicked) < len(outward_links(browser, base_url)):
                link = outward_links(browser, base_url)[len(clicked)]
                clicked.append(link.get_attribute("href"))
                link.click()
                WebDriverWait(browser, WAIT_SECONDS).until(
                    lambda driver: site.asked("/pwned") or driver.current_url.startswith(site.url(f"/{DAY}/"))
                )
                assert site.asked("/pwned") == 0, f"clicking {clicked[-1]} ran the page's script"
                browser.get(article)
            assert sorted(clicked) == sorted(site.url(f"/{DAY}/{name}/") for name in declared)


def outward_links(browser, base_url: str) -> list:
    """The reading view's links to pages outside the archive, but for the Wayback Machine's."""
    from selenium.webdriver.common.by import By

    return [
        a
        for a in browser.find_elements(By.CSS_SELECTOR, ".clippings-article a")
        if not a.get_attribute("href").startswith((base_url, "https://web.archive.org/"))
    ]


WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_browser_coverage_chart_has_axes_tooltips_and_its_data(chromium, demo_archive, served_archive, browser, width):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(WIDTHS[width], 1400)
    browser.get(f"{served_archive}/archive/articles?_search=Weinstein")
    bars = WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: driver.find_elements(By.CSS_SELECTOR, "#clippings-coverage-chart svg rect[data-count]")
    )
    dated = dated_search_results(demo_archive, "Weinstein")
    assert sum(int(bar.get_attribute("data-count")) for bar in bars) == len(dated)

    y_ticks = [int(t.text) for t in browser.find_elements(By.CSS_SELECTOR, "#clippings-coverage-chart text.clippings-y-tick")]
    assert y_ticks[0] == 0 and y_ticks == sorted(y_ticks) and y_ticks[-1] >= max(Counter(day for day, _ in dated).values())
    x_ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#clippings-coverage-chart text.clippings-x-tick")]
    assert x_ticks and x_ticks[0].endswith(" 2017") and all(any(m in t for m in ("Oct", "Nov", "Dec", "Jan")) for t in x_ticks)

    bar = bars[len(bars) // 2]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', inline: 'center'})", bar)
    if width == "phone":
        bar.click()  # a tap
    else:
        ActionChains(browser).move_to_element(bar).perform()
    tip = browser.find_element(By.CSS_SELECTOR, "#clippings-coverage-chart .clippings-tooltip")
    WebDriverWait(browser, WAIT_SECONDS).until(lambda driver: tip.is_displayed())
    count = int(bar.get_attribute("data-count"))
    assert tip.text == (
        f"{bar.get_attribute('data-day')} · {bar.get_attribute('data-outlet')}: {count} article{'s' if count != 1 else ''}"
    )
    screenshot(browser, f"8-chart-{width}")

    csv_link, svg_link = browser.find_elements(By.CSS_SELECTOR, ".clippings-chart-links a")
    with urllib.request.urlopen(csv_link.get_attribute("href"), timeout=WAIT_SECONDS) as response:
        counts = list(csv.DictReader(io.StringIO(response.read().decode("utf-8"))))
    assert sorted((r["day"], r["outlet"], int(r["articles"])) for r in counts) == sorted(
        (b.get_attribute("data-day"), b.get_attribute("data-outlet"), int(b.get_attribute("data-count"))) for b in bars
    )
    with urllib.request.urlopen(svg_link.get_attribute("href"), timeout=WAIT_SECONDS) as response:
        assert response.headers["content-type"].startswith("image/svg+xml")
        assert response.read().decode("utf-8").count("<rect ") == len(bars) + 1 + len({r["outlet"] for r in counts})


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_browser_column_descriptions_are_tooltips_and_a_folded_list(chromium, demo_archive, served_archive, browser, width):
    from selenium.webdriver.common.by import By

    browser.set_window_size(WIDTHS[width], 1400)
    browser.get(f"{served_archive}/archive/articles")
    described = load_metadata(demo_archive)["databases"]["archive"]["tables"]["articles"]["columns"]
    assert not browser.find_element(By.CSS_SELECTOR, "dl.column-descriptions").is_displayed()
    header = browser.find_element(By.CSS_SELECTOR, 'th[data-column="published_source"]')
    assert header.get_attribute("title") == described["published_source"]
    folded = browser.find_element(By.CSS_SELECTOR, "details.clippings-columns")
    first_row = browser.find_element(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    descriptions = folded.find_element(By.TAG_NAME, "dl")
    assert not descriptions.is_displayed() and folded.size["height"] < 60 < first_row.location["y"] - folded.location["y"]
    screenshot(browser, f"9-articles-{width}")
    folded.find_element(By.TAG_NAME, "summary").click()
    assert descriptions.is_displayed() and described["published_source"] in descriptions.text


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_browser_article_page_folds_the_raw_row_below_the_reading_view(chromium, demo_archive, served_archive, browser, width):
    from selenium.webdriver.common.by import By

    browser.set_window_size(WIDTHS[width], 1400)
    browser.get(f"{served_archive}/archive/articles/1")
    reading = browser.find_element(By.CSS_SELECTOR, ".clippings-article")
    fold = browser.find_element(By.CSS_SELECTOR, "details.clippings-raw-row")
    assert fold.location["y"] > reading.location["y"] + reading.size["height"] - 1
    raw_text = fold.find_element(By.CSS_SELECTOR, "td.col-text")
    assert not raw_text.is_displayed()
    screenshot(browser, f"10-article-{width}")
    fold.find_element(By.TAG_NAME, "summary").click()
    assert raw_text.is_displayed()
    assert " ".join(raw_text.text.split()) == " ".join(article_text(demo_archive, "1").split())


def dated_search_results(db: Path, term: str) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(
            "SELECT published_day, outlet_id FROM articles WHERE published_day IS NOT NULL "
            "AND id IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)",
            (term,),
        ).fetchall()
