"""What clippings is: its version, and where the project lives (the crawler's default contact)."""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/clippings-archive/clippings"
