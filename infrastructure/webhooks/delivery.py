"""Sends webhook messages from one asyncio loop in its own thread: a timeout per attempt and a
bound per endpoint, so a slow or dead receiver holds up only its own messages."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID

import aiohttp
from standardwebhooks.webhooks import Webhook

from application.webhooks import Attempt, Sending, Webhooks
from domain.webhook_messages import FAILED, SUCCEEDED, WebhookMessage
from domain.webhook_urls import RefusedUrl
from infrastructure.webhooks.url_check import Checked, DnsUrlCheck

logger = logging.getLogger(__name__)

PER_ENDPOINT = 8  # attempts in flight to one endpoint at once
BACKLOG = 10_000  # messages waiting per endpoint; more are found again by the next scan
STORE_THREADS = 4
THREAD_NAME = "webhook-delivery"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_ANSWER_BYTES = 64 * 1024  # of a receiver's answer body, read and ignored
# A message attempted here is not taken again from a scan for this long (the scanned view lags).
FINISHED_SECONDS = 5.0
MAX_FINISHED = 100_000
T = TypeVar("T")


@dataclass
class EndpointLane:
    """One endpoint's waiting messages and attempts in flight; `failing` for the log lines."""

    waiting: deque[tuple[UUID, WebhookMessage | None]] = field(default_factory=deque)
    active: int = 0
    failing: bool = False


def pinned(checked: Checked) -> tuple[str, dict[str, str], str | None]:
    """The URL with the checked address in place of the name (no second lookup can differ),
    the Host header, and the TLS server name to verify."""
    parts = urlsplit(checked.url)
    if str(checked.address) == checked.host:
        return checked.url, {}, None
    literal = f"[{checked.address}]" if checked.address.version == 6 else str(checked.address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return url, {"host": parts.netloc}, checked.host if parts.scheme == "https" else None


async def _drain(response: aiohttp.ClientResponse) -> None:
    """Read a small answer to its end, so its connection is kept for the next message; a big
    one is cut off (the connection then closes)."""
    read = 0
    async for chunk in response.content.iter_any():
        read += len(chunk)
        if read > MAX_ANSWER_BYTES:
            response.close()
            return


class Delivery:
    """`submit` (from any thread) queues messages that may be due; each is checked against
    its aggregate before it is sent, so a repeat is harmless."""

    def __init__(
        self,
        webhooks: Webhooks,
        urls: DnsUrlCheck,
        timeout_seconds: float,
        per_endpoint: int = PER_ENDPOINT,
    ) -> None:
        self.webhooks = webhooks
        self.urls = urls
        self.timeout = timeout_seconds
        self.per_endpoint = per_endpoint
        self._lanes: dict[UUID, EndpointLane] = {}
        self._known: set[UUID] = set()  # waiting or in flight
        self._finished: dict[UUID, float] = {}  # attempted here lately -> when (monotonic)
        self._signers: dict[str, Webhook] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._session: aiohttp.ClientSession | None = None
        self._store = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="webhook-store")
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._to_record: list[tuple[Attempt, EndpointLane]] = []
        self._recording: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 5)
        self._store.shutdown(wait=False, cancel_futures=True)

    def submit(self, items: Iterable[tuple[UUID, UUID]]) -> None:
        """(message id, endpoint id) pairs that may be due now."""
        self._hand_over([(message_id, endpoint_id, None) for message_id, endpoint_id in items])

    def created(self, messages: list[WebhookMessage]) -> None:
        """Messages just saved: sent from the aggregate in hand, with no read."""
        self._hand_over([(message.id, message.endpoint_id, message) for message in messages])

    def _hand_over(self, items: list[tuple[UUID, UUID, WebhookMessage | None]]) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._take, items)

    @property
    def in_flight(self) -> int:
        return len(self._known)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        # No cookie jar: what one receiver sets is never sent to another. No timeout of
        # aiohttp's own (5 min, 30 s to connect): WEBHOOK_TIMEOUT_SECONDS alone bounds an
        # attempt. Answers are read as they came, not decompressed, and thrown away.
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,
        ) as session:
            self._session = session
            self._ready.set()
            await self._stopped.wait()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None

    def _take(self, items: list[tuple[UUID, UUID, WebhookMessage | None]]) -> None:
        now = time.monotonic()
        finished = self._finished
        for message_id, endpoint_id, message in items:
            if message_id in self._known:
                continue
            if (
                message is None
                and now - finished.get(message_id, -FINISHED_SECONDS) < FINISHED_SECONDS
            ):
                continue  # attempted here a moment ago: the view has not caught up yet
            lane = self._lanes.setdefault(endpoint_id, EndpointLane())
            if len(lane.waiting) >= BACKLOG:
                continue
            self._known.add(message_id)
            lane.waiting.append((message_id, message))
            self._pump(endpoint_id, lane)

    def _pump(self, endpoint_id: UUID, lane: EndpointLane) -> None:
        while lane.active < self.per_endpoint and lane.waiting:
            message_id, message = lane.waiting.popleft()
            lane.active += 1
            task = self._attempt(message_id, message, endpoint_id, lane)
            asyncio.get_running_loop().create_task(task)

    async def _attempt(
        self,
        message_id: UUID,
        message: WebhookMessage | None,
        endpoint_id: UUID,
        lane: EndpointLane,
    ) -> None:
        """Holds a slot of the endpoint's lane while the receiver is asked, not while the
        answer is recorded (the message stays known, so it is not taken again meanwhile)."""
        recording = False
        try:
            sending = None if message is None else self.webhooks.sending_in_hand(message)
            if sending is None:
                sending = await self._in_store(self.webhooks.sending, message_id, message)
            if sending is not None:
                await self._send(sending, lane)
                recording = True
        except asyncio.CancelledError:
            raise
        except Exception:  # the store failed: the message stays due, found by the next scan
            logger.debug("webhook message %s not attempted", message_id, exc_info=True)
        finally:
            lane.active -= 1
            if not recording:
                self._done(message_id)
            self._pump(endpoint_id, lane)

    def _done(self, message_id: UUID) -> None:
        self._known.discard(message_id)
        self._finished[message_id] = time.monotonic()
        if len(self._finished) > MAX_FINISHED:
            del self._finished[next(iter(self._finished))]

    async def _in_store(self, call: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._store, partial(call, *args))

    async def _send(self, sending: Sending, lane: EndpointLane) -> None:
        at = self.webhooks.atelier.clock()
        started = time.monotonic()
        status_code, error = await self._post(sending)
        duration_ms = round((time.monotonic() - started) * 1000)
        delivered = status_code is not None and 200 <= status_code < 300
        self.webhooks.atelier.telemetry.webhook_message("succeeded" if delivered else "failed")
        self._to_record.append((Attempt(sending, at, status_code, error, duration_ms), lane))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.get_running_loop().create_task(self._record())

    async def _record(self) -> None:
        """Records every attempt finished meanwhile in one transaction, until none is left."""
        while self._to_record:
            batch, self._to_record = self._to_record, []
            attempts = [attempt for attempt, _ in batch]
            try:
                messages = await self._in_store(self.webhooks.record_attempts, attempts)
            except asyncio.CancelledError:
                raise
            except Exception:  # sent but not recorded: sent again once found due (at least once)
                logger.debug("%d webhook attempts not recorded", len(batch), exc_info=True)
                messages = []
            by_id = {message.id: message for message in messages}
            for attempt, lane in batch:
                sending = attempt.sending
                recorded = by_id.get(sending.message.id)
                if recorded is not None:
                    self._log_change(sending, lane, recorded, attempt.status_code, attempt.error)
                self._done(sending.message.id)

    async def _post(self, sending: Sending) -> tuple[int | None, str | None]:
        assert self._session is not None
        try:
            checked = await self.urls.check(sending.url)
        except RefusedUrl as refused:
            return None, f"refused: {refused}"
        url, host, server_name = pinned(checked)
        timestamp = int(time.time())
        signer = self._signers.get(sending.secret)
        if signer is None:
            signer = self._signers[sending.secret] = Webhook(sending.secret)
        msg_id = str(sending.message.id)
        body = sending.message.body.encode()
        headers = {
            **host,
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signer.sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body),
        }
        try:
            async with asyncio.timeout(self.timeout):
                async with self._session.post(
                    url,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    server_hostname=server_name,
                ) as response:
                    await _drain(response)
        except TimeoutError:
            return None, f"timed out after {self.timeout:g} s"
        except (aiohttp.ClientError, ValueError) as failure:  # ValueError: a header it refused
            return None, f"{type(failure).__name__}: {failure}"[:500]
        code = response.status
        if 200 <= code < 300:
            return code, None
        if code in REDIRECTS and "location" in response.headers:
            return code, f"HTTP {code}: redirects are not followed"
        return code, f"HTTP {code}"

    def _log_change(
        self,
        sending: Sending,
        lane: EndpointLane,
        message: WebhookMessage,
        status_code: int | None,
        error: str | None,
    ) -> None:
        """One line when an endpoint starts failing, one when it recovers, one per message
        that fails for good."""
        if error is None and lane.failing:
            lane.failing = False
            logger.warning("webhook endpoint %s recovered", sending.endpoint_id)
        elif error is not None and not lane.failing:
            lane.failing = True
            logger.warning("webhook endpoint %s failing: %s", sending.endpoint_id, error)
        if message.status == FAILED:
            logger.warning(
                "webhook message %s failed after %d attempts: %s",
                message.id,
                message.attempts,
                error,
            )
        elif message.status == SUCCEEDED:
            logger.debug("webhook message %s delivered (%s)", message.id, status_code)
