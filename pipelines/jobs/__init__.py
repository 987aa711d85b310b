"""The jobs beside the crawl: `clippings import` (archive files) and `clippings reextract` (the archive again)."""
