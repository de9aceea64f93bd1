"""Schemathesis against a live `atelier serve` on SQLite, over every operation with user, admin
and worker tokens: no 5xx, no answer outside its documented schema, no undocumented status."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from infrastructure.tokens import mint_token
from tests.support.builders import TEST_SECRET
from tests.support.fuzzing import WEBHOOK_URL, documents_by_role, fuzz, fuzzable
from tests.support.servers import atelier_server, run_cli
from web.app import ROUTES
from web.openapi.document import openapi_document

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))  # CI's bound; bench/fuzz.py runs more


def test_schemathesis_finds_no_defect_in_any_operation(tmp_path: Path) -> None:
    env = {
        "DATA_DIR": str(tmp_path / "var"),
        "AUTH_SECRET": TEST_SECRET,
        "WEBHOOK_ALLOW_PRIVATE": "true",  # the fuzzed webhook URL: 127.0.0.1, refusing
    }
    with atelier_server(env) as server:
        opened = run_cli(env, "accounts", "open", "fuzzer", "--tokens", "1000")
        assert opened.returncode == 0, opened.stderr
        tokens = {
            role: mint_token(TEST_SECRET, name, role, 3600)
            for role, name in (("user", "fuzzer"), ("admin", "root"), ("worker", "w"))
        }
        document = httpx.get(f"{server.base_url}/openapi.json").json()
        runs = fuzz(server.base_url, tokens, document, EXAMPLES, tmp_path)
        log = server.log.read_text()
    for run in runs:
        assert run.passed, f"{run.role}:\n{run.output[-20000:]}"
        assert run.tested == run.operations, run.output[-3000:]  # none skipped
        assert run.cases >= run.operations * EXAMPLES
    assert {run.role for run in runs} == {"user", "admin", "worker"}
    assert "Traceback" not in log, log[-5000:]


def test_each_operation_is_fuzzed_with_a_token_of_a_role_it_accepts() -> None:
    document = {
        "paths": {
            "/a": {"get": {"security": [{"bearerAuth": ["worker", "admin"]}]}},
            "/b": {"get": {"security": []}, "post": {"security": [{"bearerAuth": ["admin"]}]}},
        }
    }
    split = documents_by_role(document)
    assert split["worker"]["paths"] == {"/a": document["paths"]["/a"]}
    assert split["admin"]["paths"] == {"/b": {"post": document["paths"]["/b"]["post"]}}
    assert split["user"]["paths"] == {"/b": {"get": {"security": []}}}


def test_the_fuzzed_document_sends_webhooks_nowhere_but_127_0_0_1_and_holds_no_request() -> None:
    fuzzed = fuzzable(openapi_document(ROUTES))
    assert fuzzed["components"]["schemas"]["WebhookBody"]["properties"]["url"]["enum"] == [
        WEBHOOK_URL
    ]
    assert WEBHOOK_URL.startswith("http://127.0.0.1:")
    parameters = fuzzed["paths"]["/api/generations/{generation_id}"]["get"]["parameters"]
    assert "Prefer" not in {parameter["name"] for parameter in parameters}
    # Not fuzzed: a pending generation's stream stays open (see UNBOUNDED); the document's
    # own test drives it on an ended one.
    assert "/api/generations/{generation_id}/stream" not in fuzzed["paths"]
