"""Settings derived from other settings, resolved before any component reads them."""

from __future__ import annotations

from scrapy.settings import SETTINGS_PRIORITIES, Settings

from pipelines.core.project import __version__


def project_settings(overrides: dict[str, str] | None = None) -> Settings:
    """crawlers/settings.py with `-s NAME=VALUE` overrides, resolved as for a crawl: for the
    commands that run outside Scrapy (import, reextract, compact), so each default is written once."""
    settings = Settings()
    settings.setmodule("crawlers.settings")
    settings.setdict(overrides or {}, priority="cmdline")
    ContactUserAgent().update_settings(settings)
    return settings


def user_agent(contact_url: str) -> str:
    return f"clippings/{__version__} (research archive of press coverage; +{contact_url})"


class ContactUserAgent:
    """USER_AGENT names the tool and CONTACT_URL, unless USER_AGENT is set outright."""

    def update_settings(self, settings: Settings) -> None:
        if settings.getpriority("USER_AGENT") <= SETTINGS_PRIORITIES["default"]:
            settings.set("USER_AGENT", user_agent(settings["CONTACT_URL"]), priority="addon")
