"""Every `atelier` command's --help describes each option and argument, without a store."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from cli import build_parser


def command_paths(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [path]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, subparser in action.choices.items():
                paths += command_paths(subparser, (*path, name))
    return paths


COMMANDS = command_paths(build_parser())


def entries_without_description(help_text: str) -> list[str]:
    """The entries (two or four spaces in, after the first section) with no text beside or below."""
    lines = help_text.splitlines()
    sections = next(i for i, line in enumerate(lines) if line.endswith(":") and " " not in line[:1])
    missing = []
    for index in range(sections, len(lines)):
        line = lines[index]
        if indent(line) not in (2, 4):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if "  " not in line.strip() and indent(following) < 8:
            missing.append(line.strip())
    return missing


def indent(line: str) -> int:
    return len(line) - len(line.lstrip(" ")) if line.strip() else 0


@pytest.mark.parametrize("command", COMMANDS, ids=lambda path: " ".join(path) or "atelier")
def test_help_describes_every_option_and_argument(command: tuple[str, ...]) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "cli", *command, "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert "options:" in shown.stdout
    assert entries_without_description(shown.stdout) == []


@pytest.mark.parametrize("command", COMMANDS, ids=lambda path: " ".join(path) or "atelier")
def test_help_names_each_default(command: tuple[str, ...]) -> None:
    parser = build_parser()
    for name in command:
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = subparsers.choices[name]
    for action in parser._actions:
        if action.default not in (None, argparse.SUPPRESS) and action.help:
            assert "default" in action.help, action.dest
