"""clippings: research archives of press coverage."""

__version__ = "0.1.0"

# Where the project lives: the default contact in the crawler's user agent.
PROJECT_URL = "https://github.com/clippings-archive/clippings"
