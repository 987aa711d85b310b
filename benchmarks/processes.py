"""Processes as Linux's /proc shows them: who is whose parent, a process tree, CPU seconds.
Shared by the benchmarks that measure a crawl's process tree and the tests that find its workers."""

from __future__ import annotations

import os
from pathlib import Path


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (which may hold spaces and parentheses)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def parents() -> dict[int, int]:
    """Every running process's parent, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, IndexError):
                continue  # gone meanwhile
    return found


def descendants(root: int) -> dict[int, int]:
    """The processes under `root`, with their depth below it (1: children, 2: grandchildren)."""
    parent_of = parents()
    depth, level, found = {}, 1, {root}
    while found:
        found = {pid for pid, parent in parent_of.items() if parent in found} - depth.keys() - {root}
        depth.update(dict.fromkeys(found, level))
        level += 1
    return depth


def process_tree(root: int) -> list[int]:
    """`root` and every process under it."""
    return sorted({root, *descendants(root)})


def grandchildren(root: int) -> list[int]:
    """The children's children of `root`: a process pool's workers, under its fork server."""
    return sorted(pid for pid, depth in descendants(root).items() if depth == 2)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far; OSError once it is gone."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
