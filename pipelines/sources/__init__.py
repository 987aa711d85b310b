"""The sources a page comes from outside a crawl: WARC and WACZ files, downloads, CDX indexes, CC-NEWS listings."""
