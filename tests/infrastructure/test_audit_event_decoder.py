"""The audit's event decoder: a fast JSON parser on the plain path, and the application's mapper
for whatever that parser refuses, so a faster parser never makes the audit stricter."""

from __future__ import annotations

from application.audit.reading import EventDecoder
from domain.accounts import TokenAccount
from infrastructure.audit.parallel import parse_json
from tests.audit_support import memory_story


def test_what_the_fast_parser_refuses_is_read_through_the_mapper() -> None:
    story = memory_story()
    story.open("alice", 10)
    story.grant("alice", 5)
    grant = story.notifications()[-1]
    # Standard JSON has no NaN, but the library's transcoder (the standard json module) reads it:
    # orjson refuses it. The audit must read the event as the application would.
    assert b'"top-up"' in grant.state
    odd = grant._replace(state=grant.state.replace(b'"top-up"', b"NaN"))
    decoder = EventDecoder(story.mapper, parse_json)
    data = decoder.data(odd, TokenAccount.TokensGranted)
    assert data["amount"] == 5
    assert data["reason"] != data["reason"]  # NaN, as the mapper decodes it


def test_the_fast_and_the_standard_parser_read_an_event_alike() -> None:
    story = memory_story()
    story.mixed()
    fast, standard = EventDecoder(story.mapper, parse_json), EventDecoder(story.mapper)
    for notification in story.notifications():
        cls = fast.event_class(notification.topic)
        assert cls is not None
        assert fast.data(notification, cls) == standard.data(notification, cls)
