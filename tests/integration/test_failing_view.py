"""A view that cannot apply an event (a NUL in a text column, on PostgreSQL) fails alone: the
others catch up, reads answer from what it has, every process sees the failure, and it recovers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
from starlette.testclient import TestClient

from tests.integration.test_projection_crashes import wait_for
from tests.support.builders import bearer
from tests.support.clients import atelier as atelier_of
from tests.support.clients import open_account, post_generation
from tests.support.lifecycle import submit
from tests.support.read_side import serving
from tests.support.servers import run_cli
from tests.support.stores import POSTGRES, postgres_schema, postgres_settings, settings_env

pytestmark = pytest.mark.postgres

FAILING = "user_generations"


def projections(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/admin/stats", headers=bearer("root", "admin"))
    assert response.status_code == 200, response.text
    return {p["name"]: p for p in response.json()["data"]["projections"]}


def listed(client: TestClient) -> list[str]:
    response = client.get("/api/generations", headers=bearer("alice"))
    assert response.status_code == 200, response.text
    return [item["_id"] for item in response.json()["data"]]


def remove_the_nul(schema: str, generation_id: UUID) -> None:
    """Fix the stored row by hand, as an operator would: the escaped NUL leaves its JSON."""
    with psycopg.connect(**POSTGRES, autocommit=True) as connection:
        updated = connection.execute(
            f'UPDATE "{schema}".atelier_events '  # noqa: S608 - a test's own schema
            "SET state = convert_to(replace(convert_from(state, 'UTF8'), '\\u0000', ''), 'UTF8') "
            "WHERE originator_id = %s AND originator_version = 1",
            (generation_id,),
        )
        assert updated.rowcount == 1


def test_a_view_that_cannot_apply_an_event_fails_alone_visibly_and_recovers(
    tmp_path: Path,
) -> None:
    with postgres_schema() as schema:
        settings = postgres_settings(tmp_path, schema)
        with serving(settings) as client:
            open_account(client, "alice", tokens=20)
            first = post_generation(client, "alice")
            wait_for(lambda: listed(client) == [first], "the first generation listed")
            # Below the edge (which refuses it), through the application layer.
            poisoned = submit(atelier_of(client), "alice", custom_prompt="before\x00after")
            last = post_generation(client, "alice")
            head = atelier_of(client).recorder.max_notification_id()

            wait_for(lambda: projections(client)[FAILING].get("failing"), "the failure shown")
            shown = projections(client)
            assert all(
                p["position"] == head and "failing" not in p
                for name, p in shown.items()
                if name != FAILING
            )
            failure = shown[FAILING]
            assert failure["position"] < head and failure["lag"] > 0
            assert failure["failedAtPosition"] == failure["position"]
            assert "NUL" in failure["error"]
            assert failure["failingSince"].endswith("Z")

            # The list answers from what the view has, not after waiting for it.
            assert listed(client) == [first]
            assert projections(client)[FAILING]["failing"] is True

            # Another process sees it too: the failure is in the database, not in memory.
            status = run_cli(settings_env(settings), "projections", "status")
            assert status.returncode == 0, status.stderr
            row = next(line for line in status.stdout.splitlines() if line.startswith(FAILING))
            assert f"FAILING after position {failure['position']} since" in row
            assert "NUL" in row

            remove_the_nul(schema, poisoned)
            wait_for(lambda: "failing" not in projections(client)[FAILING], "the recovery")
            assert projections(client)[FAILING]["position"] >= head
            assert listed(client) == [last, str(poisoned), first]
            status = run_cli(settings_env(settings), "projections", "status")
            assert "FAILING" not in status.stdout
