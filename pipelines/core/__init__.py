"""The core: topic, page types, extraction, dating, relevance, URLs, stories, policies. Imports no Scrapy, Twisted, SQLite or click."""
