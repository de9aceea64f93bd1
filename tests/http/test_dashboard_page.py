"""GET /dashboard and its assets: served by the service itself, open without a token, each under
a Content-Security-Policy that allows only this origin's scripts and styles (none inline)."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

ASSETS = {
    "/dashboard": "text/html; charset=utf-8",
    "/dashboard/dashboard.js": "text/javascript; charset=utf-8",
    "/dashboard/dashboard.css": "text/css; charset=utf-8",
    "/dashboard/favicon.svg": "image/svg+xml",
}


@pytest.mark.parametrize(("path", "media_type"), ASSETS.items())
def test_each_asset_is_served_under_a_strict_content_security_policy(
    client: TestClient, path: str, media_type: str
) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == media_type
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_page_loads_only_its_own_assets_and_has_nothing_inline(client: TestClient) -> None:
    page = client.get("/dashboard").text
    scripts = re.findall(r"<script([^>]*)>", page)
    assert scripts == [' src="/dashboard/dashboard.js" defer']
    assert "<style" not in page
    assert " style=" not in page
    assert not re.search(r"<[^>]*\son[a-z]+=", page)  # no inline event handlers
    linked = re.findall(r'(?:href|src)="([^"]+)"', page)
    assert sorted(linked) == sorted(path for path in ASSETS if path != "/dashboard")
    assert "http" not in " ".join(linked)  # no CDN


def test_the_script_reads_only_admin_json_routes(client: TestClient) -> None:
    script = client.get("/dashboard/dashboard.js").text
    paths = re.findall(r'"(/api/[^"?]*)', script)
    assert paths
    assert all(path.startswith("/api/admin/") for path in paths)
    assert "innerHTML" not in script  # every figure and reason goes in as text
    assert "sessionStorage" in script
    assert "localStorage" not in script
