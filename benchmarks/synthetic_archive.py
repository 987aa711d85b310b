"""A synthetic archive of many articles for speed benchmarks: real texts, realistic outlets and dates.

Texts are drawn from the extraction benchmark's pages (../shared/bench/extraction), up to six
paragraphs each, with sentences naming the topic's people and keywords woven in so that
mentions, facets and searches behave as in a real archive. Days follow a #MeToo-like curve:
a peak in mid-October 2017 and a long tail, with 3% undated.

    python benchmarks/synthetic_archive.py --articles 200000 --db /tmp/big.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clippings.cli import DEFAULT_TOPIC  # noqa: E402
from pipelines.core.topic import load_topic  # noqa: E402
from pipelines.store.archive import Archive  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
COUNTRIES = [("US", "en"), ("GB", "en"), ("FR", "fr"), ("DE", "de"), ("ES", "es"), ("IT", "it"), ("CA", "en"), ("AU", "en")]
OUTLET_WORDS = ["Gazette", "Herald", "Ledger", "Tribune", "Courier", "Review", "Observer", "Chronicle", "Post", "Times"]
TOWNS = [
    "Harbourview",
    "Northfield",
    "Pacific",
    "Valmont",
    "Riverside",
    "Lakeshore",
    "Eastgate",
    "Westbury",
    "Millbrook",
    "Stonebridge",
    "Fairhaven",
    "Ashford",
    "Kingsport",
    "Cedar",
    "Oakridge",
    "Summit",
]
PARAGRAPHS_KEPT = 6
BATCH = 5000


def bench_texts(shared: Path) -> list[list[str]]:
    truth = json.loads((shared / "bench" / "extraction" / "ground-truth.json").read_text(encoding="utf-8"))
    return [[p for p in v["articleBody"].split("\n") if p.strip()][:PARAGRAPHS_KEPT] for v in truth.values()]


def synthetic_outlets(rng: random.Random, count: int = 48) -> list[dict]:
    outlets, names = [], set()
    while len(outlets) < count:
        name = f"The {rng.choice(TOWNS)} {rng.choice(OUTLET_WORDS)}"
        if name in names:
            continue
        names.add(name)
        country, language = rng.choice(COUNTRIES)
        slug = name.lower().replace("the ", "").replace(" ", "")
        outlets.append(
            {
                "id": slug,
                "name": name,
                "country": country,
                "language": language,
                "domains": json.dumps([f"{slug}.example"]),
                "homepage": f"https://{slug}.example/",
            }
        )
    return outlets


def publication_day(rng: random.Random, start: dt.date, end: dt.date) -> str | None:
    """A peak around 2017-10-16, decaying over the window; 3% undated."""
    if rng.random() < 0.03:
        return None
    offset = int(rng.expovariate(1 / 18)) + 10 if rng.random() < 0.85 else rng.randrange((end - start).days + 1)
    return min(start + dt.timedelta(days=offset), end).isoformat()


def generate(db: Path, articles: int, seed: int = 2017, shared: Path = SHARED) -> None:
    rng = random.Random(seed)
    topic = load_topic(DEFAULT_TOPIC)
    texts = bench_texts(shared)
    people = list(topic.people)
    weights = [1 / (rank + 1) for rank in range(len(people))]  # a few names dominate, as in the coverage
    archive = Archive(db)
    archive.sync_topic(topic)
    outlets = synthetic_outlets(rng)
    archive.db["outlets"].upsert_all(outlets, pk="id")
    archive.start_run("synthetic", "synthetic", topic, "clippings synthetic benchmark", True)
    with archive.transaction():
        archive.conn.execute("INSERT OR IGNORE INTO capture_bodies VALUES ('synthetic', 0, 'zstd', x'')")
    started = time.monotonic()
    for first in range(0, articles, BATCH):
        with archive.transaction():
            for number in range(first, min(first + BATCH, articles)):
                _add(archive, rng, number, texts, people, weights, outlets, topic)
        print(f"{min(first + BATCH, articles)} articles ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    archive.conn.execute("ANALYZE")
    archive.close()


def _add(archive, rng, number, texts, people, weights, outlets, topic) -> None:
    outlet = rng.choice(outlets)
    named = sorted(set(rng.choices(range(len(people)), weights=weights, k=rng.randint(1, 4))))
    keywords = rng.sample(topic.keywords[:10], k=rng.randint(1, 3))
    paragraphs = list(rng.choice(texts))
    for index in named:
        paragraphs.insert(
            rng.randrange(len(paragraphs) + 1), f"{people[index].name} was named in the coverage of {rng.choice(keywords)}."
        )
    text = "\n".join(paragraphs) + f"\nFiled {number}."
    day = publication_day(rng, topic.start, topic.end)
    url = f"https://{outlet['id']}.example/{(day or '2017/undated').replace('-', '/')}/story-{number}/"
    conn = archive.conn
    capture_id = conn.execute(
        "INSERT INTO captures (url, final_url, status, headers, content_type, fetched_at, content_sha256, source, spider, crawl_run_id, outlet_id) "
        "VALUES (?, ?, 200, '{}', 'text/html', '2026-11-24T00:00:00+00:00', 'synthetic', 'live', 'synthetic', 'synthetic', ?)",
        (url, url, outlet["id"]),
    ).lastrowid
    article_id = conn.execute(
        "INSERT INTO articles (url, capture_id, outlet_id, title, authors, published_at, published_day, published_source, "
        "language, text, word_count, text_sha256, keywords, people, relevance, source, extractor, added_at, crawl_run_id) "
        "VALUES (?, ?, ?, ?, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'synthetic', 'live', 'synthetic', '2026-11-24', 'synthetic')",
        (
            url,
            capture_id,
            outlet["id"],
            paragraphs[0][:90],
            day,
            day,
            "json-ld" if day else "undated",
            outlet["language"],
            text,
            len(text.split()),
            hashlib.sha256(text.encode()).hexdigest(),
            json.dumps(keywords),
            json.dumps([people[i].name for i in named], ensure_ascii=False),
        ),
    ).lastrowid
    conn.executemany("INSERT INTO mentions VALUES (?, ?, 0, 1)", [(article_id, people[i].id) for i in named])
    conn.executemany("INSERT INTO keyword_matches VALUES (?, ?, 0, 1)", [(article_id, k) for k in keywords])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder (default ../shared)")
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    if args.db.exists():
        sys.exit(f"{args.db} exists already; give a new --db path")
    generate(args.db, args.articles, args.seed, args.shared)


if __name__ == "__main__":
    main()
