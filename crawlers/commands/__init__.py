"""The project's Scrapy commands (COMMANDS_MODULE): `crawl` in the place of Scrapy's."""
