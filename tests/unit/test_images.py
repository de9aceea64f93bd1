"""Cloudinary URL rules and what a URL tells about its image."""

from __future__ import annotations

import pytest

from domain.errors import InvalidImages
from domain.images import ImageUrlError, link_images, parse_cloudinary_url

BASE = "https://res.cloudinary.com/demo/image/upload"


def test_contract_example_gives_public_id_format_and_size() -> None:
    image = parse_cloudinary_url(f"{BASE}/c_fill,w_400,h_600/v1699/shirts/blue-oxford.jpg")
    assert (image.cloud_name, image.public_id, image.format) == (
        "demo",
        "shirts/blue-oxford",
        "jpg",
    )
    assert (image.width, image.height) == (400, 600)


@pytest.mark.parametrize(
    ("path", "public_id", "image_format", "width", "height"),
    [
        ("sample.jpg", "sample", "jpg", None, None),
        ("v1/sample.PNG", "sample", "png", None, None),
        ("w_100/sample", "sample", None, 100, None),
        ("c_scale,w_200/e_sepia/h_50/folder/sub/item.webp", "folder/sub/item", "webp", 200, 50),
        ("w_100/w_300/pic.jpg", "pic", "jpg", 300, None),  # the last resize is what is delivered
        ("my_folder/pic.jpg", "my_folder/pic", "jpg", None, None),  # not a transformation key
        ("v1699/w_100/pic.jpg", "w_100/pic", "jpg", None, None),  # after the version: public id
        ("shirts/new_w_200.jpg", "shirts/new_w_200", "jpg", None, None),
    ],
)
def test_public_id_strips_transformations_version_and_extension(
    path: str, public_id: str, image_format: str | None, width: int | None, height: int | None
) -> None:
    image = parse_cloudinary_url(f"{BASE}/{path}")
    assert (image.public_id, image.format, image.width, image.height) == (
        public_id,
        image_format,
        width,
        height,
    )


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://res.cloudinary.com/demo/image/upload/a.jpg", "https"),
        ("https://evil.com/demo/image/upload/a.jpg", "Only Cloudinary"),
        ("https://res.cloudinary.com.evil.com/demo/image/upload/a.jpg", "Only Cloudinary"),
        ("https://evilres.cloudinary.com/demo/image/upload/a.jpg", "Only Cloudinary"),
        ("https://user:pw@res.cloudinary.com/demo/image/upload/a.jpg", "user information"),
        ("https://res.cloudinary.com@evil.com/demo/image/upload/a.jpg", "user information"),
        ("https://res.cloudinary.com:443/demo/image/upload/a.jpg", "port"),
        ("https://res.cloudinary.com/demo/video/upload/a.mp4", "path must be"),
        ("https://res.cloudinary.com/demo/image/fetch/a.jpg", "path must be"),
        ("https://res.cloudinary.com/image/upload/a.jpg", "path must be"),
        ("https://res.cloudinary.com/demo/image/upload/", "path must be"),
        ("https://res.cloudinary.com/demo/image/upload/v123", "no public id"),
        ("https://res.cloudinary.com/demo/image/upload/w_100/v2", "no public id"),
        ("https://res.cloudinary.com/demo/image/upload/../secret.jpg", "relative"),
        ("https://res.cloudinary.com/demo/image/upload/a//b.jpg", "empty"),
        ("https://res.cloudinary.com/demo/image/upload/a b.jpg", "whitespace"),
        ("https://res.cloudinary.com/demo/image/upload/a\\b.jpg", "backslashes"),
        ("javascript:alert(1)", "https"),
        ("", "https"),
        ("https://res.cloudinary.com[/demo/image/upload/a.jpg", "not a valid URL"),  # fuzzing
        ("https://[::1/demo/image/upload/a.jpg", "not a valid URL"),
        (f"{BASE}/{'x' * 2048}.jpg", "longer than 2048"),
    ],
)
def test_format_rules_refuse_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ImageUrlError, match=reason):
        parse_cloudinary_url(url)


def test_length_limit_is_inclusive_of_2048() -> None:
    url = f"{BASE}/" + "a" * (2048 - len(BASE) - 5) + ".jpg"
    assert len(url) == 2048
    assert parse_cloudinary_url(url).format == "jpg"


def test_cloud_names_restrict_the_cloud_when_given() -> None:
    url = "https://res.cloudinary.com/other/image/upload/a.jpg"
    assert parse_cloudinary_url(url).cloud_name == "other"
    assert parse_cloudinary_url(url, {"other", "demo"}).public_id == "a"
    with pytest.raises(ImageUrlError, match="cloud 'other' is not allowed"):
        parse_cloudinary_url(url, {"demo"})


def test_link_images_orders_roles_and_marks_primaries() -> None:
    images = link_images([f"{BASE}/p1.jpg", f"{BASE}/p2.jpg"], [f"{BASE}/m1.png"])
    assert [(i.role, i.order, i.is_primary, i.public_id) for i in images] == [
        ("product", 0, True, "p1"),
        ("product", 1, False, "p2"),
        ("model", 0, True, "m1"),
    ]


def test_link_images_names_every_offending_field_including_repeats() -> None:
    with pytest.raises(InvalidImages) as caught:
        link_images(
            [f"{BASE}/ok.jpg", "http://res.cloudinary.com/demo/image/upload/x.jpg"],
            ["https://example.com/a.jpg", f"{BASE}/ok.jpg"],
        )
    assert [p.field for p in caught.value.problems] == [
        "productImages.1",
        "modelImages.0",
        "modelImages.1",
    ]
    assert "repeats productImages.0" in caught.value.problems[2].message


@pytest.mark.parametrize("size", ["w_\u00b2", "w_\u0664\u0660\u0660", "w_1.5", "w_auto"])
def test_only_ascii_whole_numbers_are_sizes(size: str) -> None:
    assert parse_cloudinary_url(f"{BASE}/{size}/pic.jpg").width is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (f"{BASE}/%2e%2e/%2e%2e/%2e%2e/other/image/upload/x.jpg", "relative"),
        (f"{BASE}/%2E%2E/x.jpg", "relative"),
        (f"{BASE}/.%2e/x.jpg", "relative"),
        (f"{BASE}/%2e/x.jpg", "relative"),
        (f"{BASE}/./x.jpg", "relative"),
        (f"{BASE}/x.jpg#2", "fragment"),
        (f"{BASE}/x.jpg#", "fragment"),
        (f"{BASE}/x.jpg?a=1", "query string"),
        (f"{BASE}/x.jpg?", "query string"),
        (f"{BASE}/l_fetch:aHR0cHM6Ly9ldmlsLmV4YW1wbGUvYS5qcGc=/x.jpg", "fetch remote"),
        (f"{BASE}/u_fetch:aHR0cHM6Ly9ldmlsLmV4YW1wbGU=/x.jpg", "fetch remote"),
        (f"{BASE}/w_100,l_fetch:aHR0cHM6Ly9ldmls/x.jpg", "fetch remote"),
        (f"{BASE}/l_FETCH%3AaHR0cHM6Ly9ldmls/x.jpg", "fetch remote"),
        (f"{BASE}/a%2fb.jpg", "encoded /"),
        (f"{BASE}/a%2Fb.jpg", "encoded /"),
        (f"{BASE}/a%5cb.jpg", "encoded /"),
        (f"{BASE}/a%5Cb.jpg", "encoded /"),
        ("https://[::1]/demo/image/upload/x.jpg", "Only Cloudinary"),
        ("https://[2001:db8::1]:443/demo/image/upload/x.jpg", "Only Cloudinary"),
    ],
)
def test_url_tricks_are_refused_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ImageUrlError, match=reason):
        parse_cloudinary_url(url)


def test_encoded_dot_segments_cannot_escape_the_allowed_clouds() -> None:
    url = f"{BASE}/%2e%2e/%2e%2e/%2e%2e/other/image/upload/x.jpg"
    with pytest.raises(InvalidImages):
        link_images([url], [], {"demo"})


@pytest.mark.parametrize(
    "twin",
    [
        f"{BASE}/%70ic.jpg",  # %70 is "p"
        f"{BASE}/pi%63.jpg",
        "HTTPS://RES.CLOUDINARY.COM/demo/image/upload/pic.jpg",
        f"{BASE}/pic.jpg",
    ],
)
def test_repeats_are_compared_after_decoding_unreserved_characters(twin: str) -> None:
    with pytest.raises(InvalidImages) as caught:
        link_images([f"{BASE}/pic.jpg"], [twin])
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("modelImages.0", "Image URL repeats productImages.0")
    ]


def test_escapes_of_reserved_characters_are_not_decoded_for_comparison() -> None:
    images = link_images([f"{BASE}/a%20b.jpg"], [f"{BASE}/a%2Cb.jpg"])
    assert [image.public_id for image in images] == ["a%20b", "a%2Cb"]
