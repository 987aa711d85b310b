"""Scrapy settings for clippings: every knob is a setting, overridable with -s NAME=VALUE."""

import os

from crawlers.listings import SITEMAP_MAX_BYTES
from pipelines.core.bundled import DEFAULT_TOPIC
from pipelines.core.project import PROJECT_URL
from pipelines.store.compression import DICTIONARY_SAMPLES, DICTIONARY_SIZE

BOT_NAME = "clippings"
SPIDER_MODULES = ["crawlers.spiders"]
NEWSPIDER_MODULE = "crawlers.spiders"
# `scrapy crawl` with a lock per spider and archive, and a non-zero exit when a write was refused.
COMMANDS_MODULE = "crawlers.commands"

# --- where things are ---------------------------------------------------
ARCHIVE_PATH = "archive.db"
TOPIC_PATH = str(DEFAULT_TOPIC)  # topics/metoo.yml, wherever clippings is installed

# --- a good citizen of the web --------------------------------------------
# Say who we are and how to reach us. Researchers crawling the live web should set
# CONTACT_URL to a page or mailto: that reaches them; USER_AGENT is built from it
# (crawlers.addons.ContactUserAgent) unless USER_AGENT itself is set.
CONTACT_URL = PROJECT_URL
ADDONS = {"crawlers.addons.ContactUserAgent": 0}
ROBOTSTXT_OBEY = True
# robots.txt rules are matched against this product token (and "*").
ROBOTSTXT_USER_AGENT = "clippings"
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 2.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 20 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
RETRY_TIMES = 2
# A page that still fails after its retries is a logged fetch failure, not a crawl error.
RETRY_GIVE_UP_LOG_LEVEL = "WARNING"
# A 429 or 503 with Retry-After holds back every request to its host until then (at most this long).
RETRY_AFTER_MAX = 600.0
# A 429 without Retry-After holds back its host this long.
RETRY_AFTER_DEFAULT = 30.0
REDIRECT_MAX_TIMES = 10
# A sitemap index may list indexes, which list indexes...: sitemaps below more than this many
# nested indexes are not fetched, each a fetch failure saying so (the protocol allows none; news
# sites use one or two levels, a year's index listing its months').
SITEMAP_MAX_DEPTH = 3
# A sitemap file served gzipped (sitemap.xml.gz) is unpacked up to this size (the protocol's own
# limit); one that unpacks to more is read up to it, and a fetch failure says so.
SITEMAP_MAX_BYTES = SITEMAP_MAX_BYTES
COOKIES_ENABLED = False

# --- what the crawl may fetch (crawlers/safety.py) ---------------------------
# Only http and https; never loopback, private, link-local, multicast or other
# non-public addresses, checked after DNS resolution and on every redirect, unless
# their network is listed here (CIDRs, e.g. "127.0.0.1/32" for a site on this machine).
ALLOWED_PRIVATE_NETWORKS: list[str] = []
MAX_PAGES_PER_DOMAIN = 20000  # requests to one host:port in one run (0: no limit)
TWISTED_DNS_RESOLVER = "crawlers.safety.GuardedResolver"
DOWNLOAD_HANDLERS = {"data": None, "file": None, "s3": None, "ftp": None}

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's offsite filter drops an offsite redirect without a trace and ignores ports; ours
    # fails it with its reason, and a topic's host:port domain matches that port only.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawlers.scope.ScopeMiddleware": 50,
    "crawlers.safety.FetchGuardMiddleware": 60,  # after the scope, so hosts outside it are not even resolved
    # Scrapy 2.19's robots.txt middleware lets requests that queue behind a host's
    # robots.txt download through unchecked; ours fixes that (crawlers/middlewares.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawlers.middlewares.RobotsTxtMiddleware": 100,
    # After RetryMiddleware (550) on the way in, before it on the way out: it sees the 429.
    "crawlers.middlewares.RetryAfterMiddleware": 560,
}
# No remote control of a running crawl: Scrapy's telnet console, and its remote-control HTTP server
# (2.19), which runs Python code sent with a token it writes to a file in the user's state folder,
# a file a killed crawl leaves behind.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- what happens to a fetched page -------------------------------------
ITEM_PIPELINES = {
    "crawlers.stages.TakedownPipeline": 40,
    "crawlers.stages.FailureLogPipeline": 50,
    "crawlers.stages.RespectPipeline": 100,
    "crawlers.stages.CapturePipeline": 200,
    "crawlers.stages.AnalysePipeline": 300,  # extract, relate to the topic: in worker processes
    "crawlers.stages.DedupePipeline": 500,
    "crawlers.stages.StorePipeline": 600,
}
# Crash-safe resume (crawlers/jobstate.py): `clippings crawl` sets JOB_STATE_PATH beside the
# archive, one file per spider and topic; empty means no job state.
JOB_STATE_PATH = ""
DUPEFILTER_CLASS = "crawlers.jobstate.JobDupeFilter"
EXTENSIONS = {
    "crawlers.writer.ArchiveWriter": 10,  # first: its commit at spider_closed precedes the others' closing
    "crawlers.jobstate.JobLog": 50,
    "crawlers.extensions.CrawlLog": 100,
    "crawlers.extensions.ProgressDisplay": 200,
}
# The crawl commits its archive writes in groups, one every this many seconds (crawlers/writer.py):
# a commit per page cost a fifth of the crawl's process. A crash loses at most the open group,
# whose URLs the job state does not count as finished. 0: every write commits at once.
GROUP_COMMIT_SECONDS = 1.0
# Extraction runs in this many worker processes (pipelines/workers/pool.py), off Scrapy's event loop;
# 0 runs it in the crawl's own process, on the event loop, as before.
EXTRACTION_WORKERS = os.cpu_count() or 1

# --- research thresholds (pipelines/core/thresholds.py) ---------------------------
# They change what the archive holds, so every run records the values it used (crawl_runs.settings)
# and the datasheet reports them. Crawl, import and reextract all read them; `-s` overrides them.
# Pages with fewer words are rejected as "not an article" (CJK: two characters a word).
# 40 keeps wire briefs; measured on the benchmark pages, see CHANGELOG.
MIN_ARTICLE_WORDS = 40
# Articles with fewer words are kept but flagged `thin` (a brief, a teaser, a cut-off page):
# the text_flags column, which a study can filter on. Such a short text ending in an ellipsis is a
# teaser (`truncated`); on a page that says it is not free, `paywalled` (BENCHMARKS.md, text flags).
THIN_WORDS = 150
# A text line an outlet repeats in this many archived articles is its boilerplate ("Subscribe
# to our newsletters", an "About the company" paragraph): dropped from its later articles.
BOILERPLATE_MIN_ARTICLES = 3
# Two texts whose estimated similarity (Jaccard of their 4-word shingles, pipelines/core/stories.py) is
# at least this are one story (articles.story_id): wire copies, updated versions. On the benchmark
# pages a body against its extraction with boilerplate scored 0.41 or more, two different articles
# at most 0.13. Lower groups more, higher splits more.
STORY_SIMILARITY = 0.3

# --- how raw pages are kept (pipelines/store/compression.py) --------------------
# Once an outlet has this many captured bodies (0: never), a zstd dictionary of at most
# COMPRESSION_DICTIONARY_SIZE bytes is trained on them and compresses its later bodies: its
# templates are then stored once. `clippings compact` recompresses the bodies stored before.
# Chosen from the storage benchmark (BENCHMARKS.md).
COMPRESSION_DICTIONARY_SAMPLES = DICTIONARY_SAMPLES
COMPRESSION_DICTIONARY_SIZE = DICTIONARY_SIZE

# --- releases -------------------------------------------------------------
RELEASE_PATH = ""  # the public release `clippings rehydrate` fills in
REHYDRATE_FROM_WAYBACK = True  # when the live page is gone, try the web archive's copy
# The raw bytes of an archived page: {timestamp} (YYYYMMDDhhmmss) and {url} are filled in.
WAYBACK_REPLAY_URL = "https://web.archive.org/web/{timestamp}id_/{url}"

# --- what the crawl shows ---------------------------------------------
PROGRESS_DISPLAY = False  # `clippings crawl` and `clippings demo` turn it on
PROGRESS_INTERVAL = 2.0
LOG_LEVEL = "INFO"
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"

# --- web archives (the wayback and commoncrawl spiders) -----------------------
# Service URLs: point them at a local pywb or an institutional Wayback to use it as a mirror.
WAYBACK_CDX_URL = "https://web.archive.org/cdx/search/cdx"
# WAYBACK_REPLAY_URL (above) fetches each capture's raw bytes.
COMMONCRAWL_INDEX_URL = "https://index.commoncrawl.org/{crawl}-index"  # {crawl}: CC-MAIN-2017-43
COMMONCRAWL_DATA_URL = "https://data.commoncrawl.org/"  # prefixed to each record's filename
COMMONCRAWL_COLLINFO_URL = "https://index.commoncrawl.org/collinfo.json"
# The crawls to query, e.g. CC-MAIN-2017-43,CC-MAIN-2017-47,CC-MAIN-2017-51; empty: those whose
# dates in collinfo.json overlap the window and its capture margin.
COMMONCRAWL_CRAWLS: list[str] = []
# Captures are listed from the window's start to this many days after its end: an article of the
# window's last days may have been archived only later (its capture time is only an upper bound).
ARCHIVE_CAPTURE_MARGIN_DAYS = 30
# Archived URLs holding a topic keyword or a counted person's name are fetched first; set this
# to fetch only those (faster, but drops articles whose slug names neither; entries of archived
# feeds and sitemaps are fetched all the same).
ARCHIVE_URL_KEYWORDS_REQUIRED = False
# A gzip member of a WARC file (or a compressed WACZ member) may inflate to this many times its
# size (past its first MiB): more is a decompression bomb, reported as damage and skipped without
# inflating it. Archived pages inflate 3 to 10 times (BENCHMARKS.md); zeros, 1,000 times.
WARC_MAX_INFLATION = 100

# --- `clippings import` (pipelines/jobs/imports.py) -------------------------------------
# It reads DOWNLOAD_MAXSIZE (the largest page), the research thresholds,
# ALLOWED_PRIVATE_NETWORKS, CONTACT_URL and USER_AGENT too; `import --cc-news` reads
# COMMONCRAWL_DATA_URL and ARCHIVE_CAPTURE_MARGIN_DAYS.
# A file given by URL must arrive whole within this many seconds (a server sending a byte at a
# time cannot stretch it; a broken connection goes on with a Range request) and be no larger
# than this many bytes. A CC-NEWS file is about 1 GB.
IMPORT_DOWNLOAD_TIMEOUT = 3600
IMPORT_DOWNLOAD_MAXSIZE = 10 * 1024 * 1024 * 1024
