"""GET /openapi.json, `atelier openapi` and GET /docs: a valid OpenAPI 3.1 document of every
route, from the route table, that the service's own answers keep to."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from openapi_spec_validator import validate
from starlette.routing import Route
from starlette.testclient import TestClient

from cli import main
from infrastructure.tokens import mint_token
from tests.support.builders import ADMIN_ID, TEST_SECRET, generation_body
from tests.support.clients import open_account
from tests.support.openapi_client import DocumentClient, UndocumentedAnswer, problems
from web.app import ROUTES
from web.errors import ERROR_TABLE, HTTP_CODES
from web.openapi import examples
from web.openapi.answers import ErrorCode
from web.openapi.document import openapi_document, undocumented_routes
from web.openapi.page import prose

OPERATIONS = [
    (path, method, operation)
    for path, methods in openapi_document(ROUTES)["paths"].items()
    for method, operation in methods.items()
]
IDS = [operation["operationId"] for _, _, operation in OPERATIONS]
# Operations test_every_operation_answers_as_documented does not call, each with its reason;
# the fuzz test (tests/integration/test_fuzzing.py) still covers them.
NOT_DRIVEN_HERE: dict[str, str] = {}


@pytest.fixture
def document(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    body: dict[str, Any] = response.json()
    return body


def test_every_route_the_app_serves_is_documented(client: TestClient) -> None:
    assert undocumented_routes(client.app.routes) == []  # type: ignore[attr-defined]
    paths = openapi_document(client.app.routes)["paths"]  # type: ignore[attr-defined]
    for route in client.app.routes:  # type: ignore[attr-defined]
        documented = {method.upper() for method in paths[route.path]}
        assert documented == set(route.methods) - {"HEAD"}, route.path


def test_a_plain_route_is_reported_as_undocumented() -> None:
    async def nothing() -> None: ...

    assert undocumented_routes([*ROUTES, Route("/api/new", nothing)]) == ["/api/new"]


def test_the_document_is_valid_openapi_3_1_without_credentials(
    document: dict[str, Any],
) -> None:
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document == json.loads(json.dumps(openapi_document(ROUTES)))


def test_atelier_openapi_prints_the_served_document(
    document: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == document


def test_operation_ids_are_unique_and_every_operation_is_worked_through() -> None:
    assert len(IDS) == len(set(IDS))
    for _, _, operation in OPERATIONS:
        assert operation["summary"] and operation["description"] and operation["tags"]
        body = operation.get("requestBody")
        if body and body["required"]:
            assert "example" in body["content"]["application/json"], operation["operationId"]
        successes = [r for s, r in operation["responses"].items() if s.startswith("2")]
        assert successes, operation["operationId"]
        assert any(
            "example" in media
            for answer in successes
            for media in answer.get("content", {}).values()
        ) or not any("content" in answer for answer in successes), operation["operationId"]
        for parameter in operation["parameters"]:
            if parameter["required"]:
                assert "example" in parameter, (operation["operationId"], parameter["name"])


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_example_keeps_to_its_schema(path: str, method: str, operation: Any) -> None:
    document = openapi_document(ROUTES)
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in body:
        assert problems(document, body["schema"], body["example"]) == []
    for parameter in operation["parameters"]:
        if "example" in parameter:
            assert problems(document, parameter["schema"], parameter["example"]) == []
    for answer in operation["responses"].values():
        for media in answer.get("content", {}).values():
            if "example" in media:
                assert problems(document, media["schema"], media["example"]) == []


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=IDS)
def test_every_answer_names_its_headers_and_every_refusal_its_codes(
    path: str, method: str, operation: Any
) -> None:
    responses = operation["responses"]
    for status, answer in responses.items():
        assert answer["headers"]["X-Request-ID"]["required"], status
        if (status[0] in "45" and status != "503") or "allOf" in str(answer):
            schema = answer["content"]["application/json"]["schema"]
            assert schema["allOf"] == [{"$ref": "#/components/schemas/ErrorBody"}]
            for code in schema["properties"]["code"]["enum"]:
                assert f"`{code}`" in answer["description"]
    assert {"408", "431", "500"} <= set(responses)
    if operation["security"]:
        assert operation["security"][0]["bearerAuth"]  # the roles it accepts
        assert responses["401"]["headers"]["WWW-Authenticate"]["required"]
        assert "400" in responses  # the text rules on parameters and headers
    if "requestBody" in operation:
        assert {"400", "413", "415"} <= set(responses)
    for parameter in operation["parameters"]:
        assert parameter["in"] != "path" or parameter["required"]
        assert re.fullmatch(r"[A-Za-z_-]+", parameter["name"])


def test_the_error_code_enum_holds_every_code_the_service_answers() -> None:
    served = {code for _, code in ERROR_TABLE.values()} | set(HTTP_CODES.values())
    served |= {"FORBIDDEN", "REQUEST_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "REQUEST_TIMEOUT"}
    assert served <= set(ErrorCode.__args__)


def test_docs_is_a_page_with_every_operation_under_a_content_security_policy(
    client: TestClient, document: dict[str, Any]
) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'self'" in policy
    assert "<script" not in page.text.lower()  # escaped examples of the dashboard's may mention it
    for operation_id in IDS:
        assert f'id="op-{operation_id}"' in page.text
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page.text
    assets = re.findall(r'(?:href|src)="([^"#]+)"', page.text)
    assert assets and all(asset.startswith("/") for asset in assets)  # nothing from outside
    for asset in assets:
        assert client.get(asset).status_code == 200
    stylesheet = client.get("/docs/reference.css")
    assert stylesheet.headers["content-type"] == "text/css; charset=utf-8"
    assert "url(" not in stylesheet.text and "@import" not in stylesheet.text


def test_the_page_escapes_what_it_shows() -> None:
    assert prose("a <script>`x<y`</script>") == (
        "<p>a &lt;script&gt;<code>x&lt;y</code>&lt;/script&gt;</p>"
    )


def test_every_operation_answers_as_documented(make_client: Any) -> None:
    """The whole life of a generation, every operation at least once, each answer checked
    against the document (status, required headers, schema)."""
    client = make_client(webhook_allow_private=True)  # the example URL is on 127.0.0.1
    document = client.get("/openapi.json").json()
    anonymous = DocumentClient(document, client)
    admin = anonymous.with_token(mint_token(TEST_SECRET, ADMIN_ID, "admin", 600))
    worker = anonymous.with_token(mint_token(TEST_SECRET, "w", "worker", 600))
    alice = anonymous.with_token(mint_token(TEST_SECRET, "alice", "user", 600))

    assert anonymous.call("checkHealth").body["status"] == "healthy"
    assert anonymous.call("getOpenApiDocument").status == 200
    assert anonymous.call("getReferencePage").status == 200
    assert anonymous.call("getReferenceStylesheet").status == 200
    for asset in ("getDashboard", "getDashboardScript", "getDashboardStylesheet"):
        assert anonymous.call(asset).status == 200
    assert anonymous.call("getDashboardIcon").status == 200
    assert anonymous.call("getMetrics").status == 200
    hook = admin.call("createWebhook", examples.WEBHOOK_BODY, **{"Idempotency-Key": "hook-1"})
    assert hook.status == 201 and hook.data["secret"].startswith("whsec_")
    webhook_id = hook.data["id"]
    assert admin.call("listWebhooks").data[0]["id"] == webhook_id
    assert "secret" not in admin.call("getWebhook", webhook_id=webhook_id).data
    assert admin.call("openAccount", {"userId": "alice", "tokens": 5}).status == 201
    assert admin.call("openAccount", {"userId": "alice"}).body["code"] == "ACCOUNT_EXISTS"
    key = {"Idempotency-Key": "grant-1"}
    granted = admin.call("grantTokens", {"amount": 3, "reason": "welcome"}, user_id="alice", **key)
    replayed = admin.call("grantTokens", {"amount": 3, "reason": "welcome"}, user_id="alice", **key)
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.body == granted.body
    assert admin.call("getAdminAccount", user_id="alice", version=1).data["balance"] == 5
    assert admin.call("getAccountEvents", user_id="alice", limit=1).body["nextCursor"]

    receipt = alice.call("submitGeneration", generation_body(), **{"Idempotency-Key": "s1"})
    assert receipt.status == 201 and receipt.headers["ratelimit-remaining"] == "9"
    generation_id = receipt.data["_id"]
    assert alice.follow(receipt.headers["location"]).data["status"] == "pending"
    assert alice.call("listGenerations", status="pending").data[0]["_id"] == generation_id
    assert alice.call("getGenerationEvents", generation_id=generation_id).data
    assert alice.call("getAccount").data["reserved"] == 1
    assert worker.call("getQueue").data["depth"] == 1
    assert admin.call("getStats").data["queue"]["depth"] == 1

    claimed = worker.call("claimGeneration", {"workerId": "w1"})
    assert claimed.data["_id"] == generation_id and claimed.data["attempt"] == 1
    assert worker.call("claimGeneration", {"workerId": "w1"}).status == 204
    beat = worker.call("heartbeatGeneration", {"workerId": "w1"}, generation_id=generation_id)
    assert beat.data["cancelled"] is False
    done = worker.call(
        "completeGeneration",
        {"workerId": "w1", "resultImages": ["https://cdn.example.com/r.png"]},
        generation_id=generation_id,
    )
    assert done.data["status"] == "completed"
    again = worker.call(
        "failGeneration", {"workerId": "w1", "reason": "x"}, generation_id=generation_id
    )
    assert again.body["code"] == "INVALID_STATE"
    ended = alice.call("getGeneration", generation_id=generation_id, Prefer="wait=1")
    assert ended.headers["preference-applied"] == "wait=1"
    stream = alice.call("streamGeneration", generation_id=generation_id)  # ended: one event
    assert [json.loads(event["data"])["status"] for event in stream.body] == ["completed"]

    second = alice.call("submitGeneration", generation_body(quality="ultra")).data["_id"]
    assert alice.call("cancelGeneration", generation_id=second).data["status"] == "cancelled"
    third = alice.call("submitGeneration", generation_body(style="minimal")).data["_id"]
    worker.call("claimGeneration", {"workerId": "w2"})
    failed = worker.call("failGeneration", {"workerId": "w2", "reason": "no"}, generation_id=third)
    assert failed.data["error"] == "no"

    assert (
        admin.call("listEveryGeneration", userId="alice", status="failed").data[0]["_id"] == third
    )
    assert len(admin.call("getActivity", minutes=5).data["buckets"]) == 5
    assert admin.call("listTopUsers", hours=1).data[0]["userId"] == "alice"
    assert admin.call("listUsersNearLimit").status == 200
    messages = admin.call("listWebhookMessages", webhook_id=webhook_id).data
    assert messages, "the lifecycle above made messages for the endpoint"
    retried = admin.call("retryWebhookMessage", webhook_id=webhook_id, message_id=messages[0]["id"])
    assert retried.status == 202 and retried.data["status"] == "pending"
    assert admin.call("deleteWebhook", webhook_id=webhook_id).status == 204
    assert admin.call("getWebhook", webhook_id=webhook_id).body["code"] == "NOT_FOUND"

    assert admin.call("disableAccount", {"reason": "chargeback"}, user_id="alice").status == 200
    assert alice.call("getAccount").body["code"] == "ACCOUNT_DISABLED"
    assert admin.call("enableAccount", user_id="alice").data["status"] == "active"
    assert anonymous.call("getAccount").body["code"] == "AUTHENTICATION_REQUIRED"
    assert alice.call("getStats").body["code"] == "FORBIDDEN"
    assert anonymous.called == set(IDS) - set(NOT_DRIVEN_HERE)


def test_an_answer_the_document_does_not_list_is_caught(
    client: TestClient, document: dict[str, Any]
) -> None:
    """The client's own check: a status missing from the document fails the call."""
    del document["paths"]["/api/account"]["get"]["responses"]["401"]
    with pytest.raises(UndocumentedAnswer):
        DocumentClient(document, client).call("getAccount")


def test_a_rate_limited_submission_carries_retry_after_and_the_rate_limit_headers(
    make_client: Any,
) -> None:
    client = make_client(max_requests_per_hour=1)
    open_account(client, "bob")
    headers = {"Authorization": f"Bearer {mint_token(TEST_SECRET, 'bob', 'user', 600)}"}
    assert client.post("/api/generate", json=generation_body(), headers=headers).status_code == 201
    refused = client.post("/api/generate", json=generation_body(style="minimal"), headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["ratelimit-limit"] == "1"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
