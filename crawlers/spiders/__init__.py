"""One spider per discovery method: seeds, feeds, sitemaps."""
