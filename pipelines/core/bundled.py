"""The files clippings ships for its commands to read at run time, found wherever it is installed.

`clippings/data/` holds them: in a checkout its entries are symbolic links to the top-level
`metadata.yml` and `topics/` (the files people edit, and that `datasette archive.db -m
metadata.yml` and `scrapy crawl` read there); a wheel or an sdist holds copies (setuptools
follows the links when it builds one). They are found through the `clippings` package's
location, without importing it: the core imports nothing from the layers above it."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path


def bundled_file(name: str) -> Path:
    """A file of `clippings/data/`, e.g. "topics/metoo.yml", as a path on disk."""
    # resolve(): in a checkout, the top-level file the link points to, so messages name that.
    package = find_spec("clippings")
    assert package is not None and package.submodule_search_locations, "clippings is installed with this module"
    return Path(package.submodule_search_locations[0], "data", *name.split("/")).resolve()


DEFAULT_TOPIC = bundled_file("topics/metoo.yml")
METADATA_FILE = bundled_file("metadata.yml")
TOPIC_TEMPLATE = bundled_file("topic-template.yml")
