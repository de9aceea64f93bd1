"""Reading the whole event log in order, in batches, and decoding only what the audit needs.

The audit's speed is measured against the raw read rate of the log, so reading and decoding are
kept lean: batches come from `select_notifications` (the next one can be fetched by a thread
while the current one is checked), and an event's stored JSON is decoded only when a check needs
its data, with orjson rather than the library's per-object hook (a third of the standard
decoder's time, which matters at a million events). Events stored in an older shape (a lower
class version), and stores that encrypt or compress, go through the application's own mapper,
upcasters included, so the audit reads every event exactly as the application would load it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    ApplicationRecorder,
    JSONTranscoder,
    Mapper,
    Notification,
)
from eventsourcing.utils import TopicError, resolve_topic

BATCH_SIZE = 2_000
_END = object()


class EventDecoder:
    """The class and the data of stored events, as the application's mapper would give them."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.plain_json = (
            type(mapper.transcoder) is JSONTranscoder
            and mapper.cipher is None
            and mapper.compressor is None
        )
        self._classes: dict[str, type[Any] | None] = {}
        self._last: Notification | None = None
        self._last_data: dict[str, Any] = {}

    def event_class(self, topic: str) -> type[Any] | None:
        """The class a topic names (renamed topics included), or None if nothing answers it."""
        try:
            return self._classes[topic]
        except KeyError:
            pass
        try:
            cls: type[Any] | None = resolve_topic(topic)
        except TopicError:
            cls = None
        self._classes[topic] = cls
        return cls

    def data(self, notification: Notification, cls: type[Any]) -> dict[str, Any]:
        """The event's fields (ValueError when the record cannot be decoded); not to be changed.

        On the fast path datetimes stay in their stored form; read them with `moment()`. The
        last event's data is kept, since a check and the observers following it ask in turn.
        """
        if notification is self._last:
            return self._last_data
        data = self._decode(notification, cls)
        self._last, self._last_data = notification, data
        return data

    def _decode(self, notification: Notification, cls: type[Any]) -> dict[str, Any]:
        if self.plain_json:
            try:
                state = orjson.loads(notification.state)
            except orjson.JSONDecodeError:
                raise ValueError("the stored state is not JSON") from None
            if not isinstance(state, dict):
                raise ValueError("the stored state is not one JSON object")
            if state.pop("class_version", 1) == getattr(cls, "class_version", 1):
                return state
        try:
            event = self.mapper.to_domain_event(notification)
        except Exception as error:  # the mapper wraps some failures, not all
            raise ValueError(str(error)) from error
        return dict(vars(event))


def generation_key(value: Any) -> int:
    """A generation id from an event field as an integer (a dict key cheaper than a UUID)."""
    if type(value) is not str:
        if isinstance(value, UUID):
            return value.int
        if isinstance(value, dict) and value.get("_type_") == "uuid_hex":
            value = value["_data_"]
    text = str(value).replace("-", "")
    if len(text) != 32:
        raise ValueError(f"not a generation id: {value!r}")
    return int(text, 16)


def moment(value: Any) -> datetime:
    """A datetime from an event field, decoded or still in the transcoder's stored form."""
    if type(value) is dict and value.get("_type_") == "datetime_iso":
        return datetime.fromisoformat(value["_data_"])
    if isinstance(value, datetime):
        return value
    raise ValueError(f"not a stored datetime: {value!r}")


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_last_micros: tuple[Any, int] = (None, 0)


def moment_micros(value: Any) -> int:
    """`moment(value)` as whole microseconds since the epoch (how the read models store time).

    Several read models' checks ask for the same event's time in turn, so the last answer is
    kept.
    """
    global _last_micros  # noqa: PLW0603 - a one-entry cache on the audit's hottest path
    text = value.get("_data_") if type(value) is dict else None
    if text is not None and text == _last_micros[0]:
        return _last_micros[1]
    delta = moment(value) - _EPOCH
    result = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if text is not None:
        _last_micros = (text, result)
    return result


def log_batches(
    recorder: ApplicationRecorder,
    after: int = 0,
    upto: int | None = None,
    batch_size: int = BATCH_SIZE,
    prefetch: bool = True,
) -> Iterator[Sequence[Notification]]:
    """The log's notifications with positions in (after, upto], oldest first, in batches."""
    if not prefetch:
        yield from _batches(recorder, after, upto, batch_size)
        return
    ready: queue.Queue[object] = queue.Queue(maxsize=2)
    stopping = threading.Event()

    def offer(item: object) -> bool:
        """Hand `item` to the consumer; False once the consumer has gone away."""
        while not stopping.is_set():
            try:
                ready.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def read_ahead() -> None:
        try:
            for batch in _batches(recorder, after, upto, batch_size):
                if not offer(batch):
                    return
            offer(_END)
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)

    reader = threading.Thread(target=read_ahead, name="audit-log-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stopping.set()
        reader.join()


def _batches(
    recorder: ApplicationRecorder, after: int, upto: int | None, batch_size: int
) -> Iterator[Sequence[Notification]]:
    position = after
    while upto is None or position < upto:
        batch = recorder.select_notifications(
            start=position, limit=batch_size, stop=upto, inclusive_of_start=False
        )
        if not batch:
            return
        yield batch
        position = batch[-1].id
