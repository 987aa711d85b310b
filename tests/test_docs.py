"""The docs keep up with the code: every setting and every command documented, the README a front door."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from clippings.cli import main

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = ROOT / "crawlers" / "settings.py"
SETTINGS_DOC = ROOT / "docs" / "settings.md"
COMMANDS_DOC = ROOT / "docs" / "commands.md"
README = ROOT / "README.md"
README_LIMIT = 10 * 1024
TEST_SCRIPT = "scripts/test"
# Where the commands read settings: a Scrapy settings object (settings.get("NAME"), settings["NAME"],
# self.settings.getint("NAME"), ...) in every package the commands run.
SETTING_READ = re.compile(r"settings(?:\.get\w*\(|\[)\s*[\"']([A-Z][A-Z0-9_]+)[\"']")
CODE_FOLDERS = ("clippings", "crawlers", "pipelines")


def defined_settings(source: str) -> set[str]:
    """The UPPERCASE names a settings module assigns (names it imports are not its settings)."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name) and t.id.isupper())
    return names


def read_settings(folders=CODE_FOLDERS) -> set[str]:
    """The setting names the code reads from a settings object, whoever defines them."""
    return {
        name
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        for name in SETTING_READ.findall(path.read_text(encoding="utf-8"))
    }


def documented(name: str, text: str) -> bool:
    """`NAME` written in code style, alone or in a list of names (`A`, `B`)."""
    return re.search(rf"`{re.escape(name)}`", text) is not None


def commands(group: click.Group = main, path: tuple[str, ...] = ("clippings",)):
    """Every command and subcommand of the click group, as its words and the command object."""
    for name, command in sorted(group.commands.items()):
        words = (*path, name)
        yield words, command
        if isinstance(command, click.Group):
            yield from commands(command, words)


def command_section(words: tuple[str, ...], text: str) -> str | None:
    """The text under the heading naming the command, up to the next heading of any level."""
    heading = re.search(rf"^#+ `{re.escape(' '.join(words))}`\s*$", text, flags=re.MULTILINE)
    if heading is None:
        return None
    rest = text[heading.end() :]
    following = re.search(r"^#+ ", rest, flags=re.MULTILINE)
    return rest[: following.start()] if following else rest


def option_names(command: click.Command) -> list[str]:
    return [
        opt
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden
        for opt in param.opts
        if opt.startswith("--")
    ]


def readme_first_block(text: str) -> list[str] | None:
    """The lines of the README's first fenced block, when it is a ```sh block."""
    match = re.search(r"^```(\w*)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    if match is None or match.group(1) != "sh":
        return None
    return [line for line in match.group(2).splitlines() if line.strip()]


def test_settings_finds_assigned_names_not_imported_ones():
    source = "import os\nfrom x import SIZE\nARCHIVE_PATH = 'a'\nLIMIT: int = 3\nlower = 1\n"
    assert defined_settings(source) == {"ARCHIVE_PATH", "LIMIT"}


def test_settings_documented_only_in_code_style():
    assert documented("DOWNLOAD_DELAY", "| `DOWNLOAD_DELAY` | 1 s |")
    assert not documented("DOWNLOAD_DELAY", "DOWNLOAD_DELAYS and DOWNLOAD_DELAY without quotes")
    assert not documented("RETRY", "`RETRY_TIMES`")


def test_every_setting_of_the_settings_module_is_documented():
    names = defined_settings(SETTINGS_MODULE.read_text(encoding="utf-8"))
    assert len(names) > 40, "the settings module was not read"
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in names if not documented(name, text))
    assert not missing, f"settings of crawlers/settings.py missing from docs/settings.md: {', '.join(missing)}"


def test_every_setting_the_commands_read_is_documented():
    names = read_settings()
    assert {"GROUP_COMMIT_SECONDS", "USER_AGENT", "DNS_TIMEOUT"} <= names, "the code's settings reads were not found"
    text = SETTINGS_DOC.read_text(encoding="utf-8")
    missing = sorted(name for name in names if not documented(name, text))
    assert not missing, f"settings the code reads missing from docs/settings.md: {', '.join(missing)}"


def test_commands_walk_reaches_the_subcommands():
    found = {" ".join(words) for words, _ in commands()}
    assert {"clippings crawl", "clippings topic init", "clippings takedown list"} <= found


def test_command_section_ends_at_the_next_heading():
    text = "## `clippings topic`\nTopics.\n### `clippings topic init`\n`--force`\n## `clippings crawl`\n"
    assert command_section(("clippings", "topic"), text).strip() == "Topics."
    assert command_section(("clippings", "topic", "init"), text).strip() == "`--force`"
    assert command_section(("clippings", "serve"), text) is None


@pytest.mark.parametrize("words,command", list(commands()), ids=lambda value: " ".join(value) if isinstance(value, tuple) else "")
def test_every_command_and_option_is_documented(words, command):
    section = command_section(words, COMMANDS_DOC.read_text(encoding="utf-8"))
    assert section is not None, f"docs/commands.md has no heading `{' '.join(words)}`"
    missing = [opt for opt in option_names(command) if f"`{opt}" not in section]
    assert not missing, f"`{' '.join(words)}` options missing from its section of docs/commands.md: {', '.join(missing)}"


def test_readme_is_under_10_kb():
    size = len(README.read_bytes())
    assert size < README_LIMIT, f"README.md is {size} bytes; move detail into docs/ to keep it under {README_LIMIT}"


def test_readme_starts_with_the_demo_and_the_test_script():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"^```", text, flags=re.MULTILINE)
    assert first_block and not re.search(r"^#{2,} ", text[: first_block.start()], flags=re.MULTILINE), (
        "the README's first section must be its two commands"
    )
    lines = readme_first_block(text)
    assert lines is not None and len(lines) == 2, "the README must open with one ```sh block of two commands"
    demo, tests = lines
    assert demo.endswith("clippings demo"), f"the first command must run the demo, not: {demo}"
    assert tests.endswith(TEST_SCRIPT), f"the second command must run {TEST_SCRIPT}, not: {tests}"


def test_readme_block_reader_refuses_other_openings():
    assert readme_first_block("# x\n```sh\na\nb\n```\n") == ["a", "b"]
    assert readme_first_block("# x\n```python\na\n```\n") is None


def test_test_script_is_executable():
    script = ROOT / TEST_SCRIPT
    assert script.is_file() and script.stat().st_mode & 0o111, f"{TEST_SCRIPT} must be an executable file"
