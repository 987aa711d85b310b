"""clippings: research archives of press coverage."""

from pipelines.core.project import PROJECT_URL, __version__

__all__ = ["PROJECT_URL", "__version__"]
