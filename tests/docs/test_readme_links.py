"""The README's rule map and links name files and tests that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_every_path_the_readme_names_exists() -> None:
    paths = set(
        re.findall(r"`((?:domain|application|infrastructure|web|cli|tests|docs)/[\w/.]+)", README)
    )
    paths |= set(re.findall(r"\]\(((?:docs)/[\w/.]+)\)", README))
    assert paths
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_every_test_the_rule_map_names_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", README)
    assert named
    missing = []
    for path, test in named:
        tree = ast.parse((ROOT / path).read_text())
        functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        if test not in functions:
            missing.append(f"{path}::{test}")
    assert missing == []


def test_every_doc_is_linked_from_the_readme() -> None:
    docs = {f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md")}
    linked = set(re.findall(r"\]\((docs/[\w.]+\.md)\)", README))
    assert docs - linked == set()
