"""CLOUDINARY_DELIVERY_URL: the HEAD check (VERIFY_IMAGE_URLS) asks it for each image, while the
URL recorded on the generation stays the res.cloudinary.com one the client sent."""

from __future__ import annotations

from starlette.testclient import TestClient

from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory
from tests.support.builders import bearer, generation_body
from tests.support.clients import open_account
from tests.support.fake_cloudinary import FakeCloudinary
from tests.support.png import png
from web.asgi import app_from_settings


def test_the_head_check_asks_the_delivery_url_and_records_the_original(
    make_settings: SettingsFactory,
) -> None:
    with FakeCloudinary().running() as cloudinary:
        settings = make_settings(verify_image_urls=True, cloudinary_delivery_url=cloudinary.origin)
        hosted = cloudinary.host("v1/shirts/red.png", png(2, 2))
        missing = hosted.replace("red.png", "gone.png")
        app = app_from_settings(settings, build_application(settings))
        with TestClient(app, raise_server_exceptions=False) as client:
            open_account(client, "alice")
            accepted = client.post(
                "/api/generate",
                json=generation_body(productImages=[hosted]),
                headers=bearer("alice"),
            )
            assert accepted.status_code == 201, accepted.text
            refused = client.post(
                "/api/generate",
                json=generation_body(productImages=[hosted, missing]),
                headers=bearer("alice"),
            )
            assert refused.status_code == 400
            assert refused.json()["code"] == "IMAGE_VALIDATION_ERROR"
            assert [p["field"] for p in refused.json()["validationErrors"]] == ["productImages.1"]
            gid = accepted.json()["data"]["_id"]
            shown = client.get(f"/api/generations/{gid}", headers=bearer("alice")).json()["data"]
            assert shown["productImages"] == [hosted]
        assert cloudinary.delivered.count(cloudinary.delivery_path(hosted)) == 2
