"""The worker pools: extraction in worker processes for the crawl, batches on local processes or Dask for import and reextract."""
