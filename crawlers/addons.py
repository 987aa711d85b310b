"""The settings every command reads (one loader), what a run records of them, and the settings
derived from other settings, resolved before any component reads them."""

from __future__ import annotations

import difflib
import re
from typing import Any

from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings, Settings, default_settings

from crawlers import settings as project_module
from pipelines.core.project import __version__
from pipelines.core.thresholds import SettingError, Thresholds

# Parts of a setting's name that mark a secret: such settings are never recorded with a run.
SECRET_WORDS = {"PASSWORD", "PASSWD", "PASS", "SECRET", "TOKEN", "KEY", "APIKEY", "AUTH", "CREDENTIALS"}
# Where this machine keeps files, and what the run shows: not how the archive was made.
LOCAL_SETTING = re.compile(r"_(PATH|FILE|DIR)$|^(LOG|PROGRESS)_")
URL_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")


def project_settings(overrides: dict[str, str] | None = None) -> Settings:
    """crawlers/settings.py with `-s NAME=VALUE` overrides, resolved as for a crawl: the one
    loader of every command (the crawl passes the same overrides to `scrapy crawl`), so each
    default is written once. SettingError for a name neither clippings nor Scrapy knows."""
    overrides = overrides or {}
    for name in overrides:
        check_setting_name(name)
    settings = Settings()
    settings.setmodule(project_module)
    settings.setdict(overrides, priority="cmdline")
    ContactUserAgent().update_settings(settings)
    return settings


def known_setting_names() -> set[str]:
    """The settings of crawlers/settings.py and Scrapy's own."""
    return {name for module in (project_module, default_settings) for name in dir(module) if name.isupper()}


def check_setting_name(name: str) -> None:
    known = known_setting_names()
    if name in known:
        return
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise SettingError(f"{name} is not a setting of clippings or Scrapy{hint}; the settings are listed in crawlers/settings.py")


def recorded_settings(settings: BaseSettings) -> dict[str, Any]:
    """What a run records of the settings in force (crawl_runs.settings): the research
    thresholds, and every setting given with -s, except secrets and this machine's paths."""
    recorded = {}
    for name in sorted(settings.attributes):
        if settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"] and _recordable(name):
            recorded[name] = _plain(settings[name])
    return {**recorded, **Thresholds.from_settings(settings).as_settings()}


def _recordable(name: str) -> bool:
    return not LOCAL_SETTING.search(name) and not SECRET_WORDS & set(name.split("_"))


def _plain(value: Any) -> Any:
    """A JSON value, with any password in a URL left out."""
    if isinstance(value, BaseSettings):
        value = value.copy_to_dict()
    if isinstance(value, str):
        return URL_CREDENTIALS.sub("", value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def user_agent(contact_url: str) -> str:
    return f"clippings/{__version__} (research archive of press coverage; +{contact_url})"


class ContactUserAgent:
    """USER_AGENT names the tool and CONTACT_URL, unless USER_AGENT is set outright."""

    def update_settings(self, settings: Settings) -> None:
        if settings.getpriority("USER_AGENT") <= SETTINGS_PRIORITIES["default"]:
            settings.set("USER_AGENT", user_agent(settings["CONTACT_URL"]), priority="addon")
