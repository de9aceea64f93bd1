"""The README walk-through through a client driven by the served /openapi.json: operations by
operationId, every request body and answer checked against the document."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.support.openapi_client import DocumentClient
from tests.support.servers import atelier_server, run_cli
from web.openapi.examples import SUBMISSION

pytestmark = pytest.mark.slow


def test_the_readme_walk_through_through_the_documented_operations(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path / "var")}  # the development secret, as in the README
    with atelier_server(env) as server, httpx.Client(base_url=server.base_url) as http:
        document = http.get("/openapi.json").json()
        opened = run_cli(env, "accounts", "open", "alice", "--tokens", "5")
        assert opened.returncode == 0, opened.stderr
        token = run_cli(env, "token", "alice").stdout.strip()
        alice = DocumentClient(document, http, token)

        receipt = alice.call("submitGeneration", SUBMISSION)  # the document's own example
        assert receipt.status == 201
        assert receipt.data["estimatedCost"] == 2 and receipt.data["queuePosition"] == 1
        location = receipt.headers["location"]
        assert location == f"/api/generations/{receipt.data['_id']}"

        generation = alice.follow(location)
        assert generation.data["status"] == "pending"
        assert generation.data["images"][0]["publicId"] == "shirts/blue-oxford"

        account = alice.call("getAccount").data
        assert (account["balance"], account["reserved"], account["available"]) == (5, 2, 3)
        assert json.loads(run_cli(env, "accounts", "show", "alice").stdout)["reserved"] == 2
        assert alice.call("getQueue").data["depth"] == 1
        assert alice.called == {"submitGeneration", "getGeneration", "getAccount", "getQueue"}
