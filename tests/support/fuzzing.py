"""Schemathesis over every operation of a live server, each with a token of a role it accepts:
what the fuzz test and bench/fuzz.py share. A failure is a 5xx, an answer that breaks its
documented schema or headers, or a status the operation does not document."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass
class FuzzReport:
    cases: int = 0
    statuses: dict[str, set[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def token_for(operation: Any, tokens: Mapping[str, str]) -> str | None:
    """A token of the first role the operation accepts (None: it needs none)."""
    security = operation.definition.raw.get("security") or []
    roles = security[0].get("bearerAuth", []) if security else []
    return tokens[roles[0]] if roles else None


def fuzz(
    base_url: str,
    tokens: Mapping[str, str],
    examples: int,
    seed: int = 0,
    progress: Callable[[str], None] = lambda line: None,
) -> FuzzReport:
    """`examples` cases per operation and generation mode, the same ones for the same seed."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    report = FuzzReport()
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        token = token_for(operation, tokens)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        seen = report.statuses.setdefault(operation.label, set())
        for mode in MODES:
            _fuzz_operation(operation, mode, headers, base_url, examples, seed, report, seen)
        progress(f"{operation.label}: {sorted(seen)}")
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    base_url: str,
    examples: int,
    seed: int,
    report: FuzzReport,
    seen: set[int],
) -> None:
    failed: list[str] = []

    @given(case=operation.as_strategy(generation_mode=mode, headers=headers))
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    def run(case: Any) -> None:
        report.cases += 1
        try:
            response = case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=30)
        except FailureGroup as failure:  # every check's failure, with a curl to reproduce it
            if len(failed) < 3:
                failed.append(f"{operation.label} ({mode.value}): {failure}")
            return
        seen.add(response.status_code)

    del seed  # derandomize: the same cases every run, so a failure in CI replays locally
    run()
    report.failures += failed
