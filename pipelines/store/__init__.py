"""The store: the SQLite archive (schema, captures, articles, versions, stories), its compression and compaction, coverage."""
