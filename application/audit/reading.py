"""The log read in order, in batches, fast; each event decoded only when a check asks for it."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar, cast
from uuid import UUID

from eventsourcing.persistence import (
    ApplicationRecorder,
    JSONTranscoder,
    Mapper,
    Notification,
    StoredEvent,
)
from eventsourcing.utils import TopicError, resolve_topic

BATCH_SIZE = 2_000
_END = object()
T = TypeVar("T")
JsonParser = Callable[[bytes], Any]  # stored JSON bytes -> Python values (ValueError if not JSON)


class LoggedEvent(NamedTuple):
    """One event of the log: a notification, its originator's id an integer (`key`)."""

    id: int
    key: int
    originator_version: int
    topic: str
    state: bytes

    @property
    def originator_id(self) -> UUID:
        return UUID(int=self.key)

    @classmethod
    def of(cls, n: Notification) -> LoggedEvent:
        return cls(n.id, cast(UUID, n.originator_id).int, n.originator_version, n.topic, n.state)


# Batches of the log's events with positions in (after, upto], oldest first.
LogReader = Callable[[int, int], Iterator[Sequence[LoggedEvent]]]


class EventDecoder:
    """The class and the data of stored events, as the application's mapper would give them."""

    def __init__(self, mapper: Mapper[Any], parse_json: JsonParser = json.loads) -> None:
        self.mapper = mapper
        self.parse_json = parse_json
        self.plain_json = (
            type(mapper.transcoder) is JSONTranscoder
            and mapper.cipher is None
            and mapper.compressor is None
        )
        self._versions: dict[type[Any], int] = {}  # event class -> its class_version
        self._last: LoggedEvent | None = None
        self._last_data: dict[str, Any] = {}

    def event_class(self, topic: str) -> type[Any] | None:
        """The class a topic names (renamed topics included), or None if nothing answers it."""
        try:
            cls: type[Any] = resolve_topic(topic)
        except TopicError:
            return None
        return cls

    def data(self, notification: LoggedEvent, cls: type[Any]) -> dict[str, Any]:
        """The event's fields, not to be changed (ValueError: it cannot be decoded); datetimes
        may be in stored form (read them with `moment_micros`). The last one's are kept."""
        if notification is self._last:
            return self._last_data
        try:
            state = self.parse_json(notification.state) if self.plain_json else None
        except ValueError:
            state = None  # not for the plain parser (NaN, huge integers): the mapper decides
        try:
            version = self._versions[cls]
        except KeyError:
            version = self._versions[cls] = getattr(cls, "class_version", 1)
        if type(state) is not dict or state.pop("class_version", 1) != version:
            state = self._decode_as_loaded(notification)
        self._last, self._last_data = notification, state
        return state

    def _decode_as_loaded(self, notification: LoggedEvent) -> dict[str, Any]:
        """The event as the application would load it: mapper, upcasters and all."""
        stored = StoredEvent(
            notification.originator_id,
            notification.originator_version,
            notification.topic,
            notification.state,
        )
        try:
            event = self.mapper.to_domain_event(stored)
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


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_last_moment: tuple[str | None, int] = (None, 0)  # (stored ISO text, its microseconds)


def moment_micros(value: Any) -> int:
    """A moment of an event field in microseconds since the epoch (the last one is kept)."""
    global _last_moment  # noqa: PLW0603 - a one-entry cache on the audit's hottest path
    stored = type(value) is dict and value.get("_type_") == "datetime_iso"
    text = value.get("_data_") if stored else None
    last_text, last_result = _last_moment  # one read: another thread may replace it meanwhile
    if text is None:
        if not isinstance(value, datetime):  # decoded by the mapper, or neither
            raise ValueError(f"not a stored datetime: {value!r}")
        since = value - EPOCH
    elif text == last_text:
        return last_result
    else:
        since = datetime.fromisoformat(text) - EPOCH
    result = (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds
    if text is not None:
        _last_moment = (text, result)
    return result


def log_batches(
    recorder: ApplicationRecorder,
    after: int = 0,
    upto: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[Sequence[LoggedEvent]]:
    """The log's events in (after, upto], oldest first, in batches."""
    for batch in notification_batches(recorder, after, upto, batch_size):
        yield [LoggedEvent.of(notification) for notification in batch]


def read_ahead(source: Iterator[T], depth: int, name: str) -> Generator[T, None, None]:
    """`source`'s items, produced by a thread up to `depth` ahead; its errors raised here.
    A consumer stopping early waits for the item in hand (unblock a blocked source first)."""
    ready: queue.Queue[object] = queue.Queue(maxsize=depth)
    stopping = threading.Event()

    def offer(item: object) -> bool:
        while not stopping.is_set():
            try:
                ready.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        try:
            for item in source:
                if not offer(item):
                    return
            offer(_END)
        except BaseException as error:  # handed to the consumer, raised there
            offer(error)

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()
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
        producer.join()


def notification_batches(
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
