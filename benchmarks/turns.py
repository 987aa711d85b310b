"""Run several methods over the same pages, taking turns page by page, and time each one."""

from __future__ import annotations

import time
from collections.abc import Callable


def take_turns(methods: dict[str, Callable[[str, str], object]], pages: list) -> tuple[dict[str, dict], dict[str, float]]:
    """Each method's answer per page and its pages per second. Pages are (id, url, html, ...).

    The methods take turns page by page, so a load that comes and goes on a shared machine
    slows them all alike; each is warmed up first (one-time loading is not per-page speed).
    """
    for method in methods.values():
        method(pages[0][2], pages[0][1])
    seconds = dict.fromkeys(methods, 0.0)
    answers: dict[str, dict] = {name: {} for name in methods}
    for page_id, url, html, *_ in pages:
        for name, method in methods.items():
            started = time.perf_counter()
            answers[name][page_id] = method(html, url)
            seconds[name] += time.perf_counter() - started
    return answers, {name: len(pages) / seconds[name] for name in methods}


def warm_up(methods: dict[str, Callable[[str, str], object]], pages: list) -> None:
    """One untimed pass of every method over every page. htmldate's text search calls dateparser,
    which compiles its regular expressions per language on first use and caches them for the
    process: without this pass, whichever method meets a language first pays for all of them."""
    for method in methods.values():
        for _, url, html, *_ in pages:
            method(html, url)
