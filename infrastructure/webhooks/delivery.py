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

import httpx
from standardwebhooks.webhooks import Webhook

from application.webhooks import Sending, Webhooks
from domain.webhook_messages import FAILED, SUCCEEDED, WebhookMessage
from domain.webhook_urls import RefusedUrl
from infrastructure.webhooks.url_check import Checked, DnsUrlCheck

logger = logging.getLogger(__name__)

PER_ENDPOINT = 4  # attempts in flight to one endpoint at once
BACKLOG = 10_000  # messages waiting per endpoint; more are found again by the next scan
STORE_THREADS = 4
T = TypeVar("T")


@dataclass
class EndpointLane:
    """One endpoint's waiting messages and attempts in flight; `failing` for the log lines."""

    waiting: deque[UUID] = field(default_factory=deque)
    active: int = 0
    failing: bool = False


def pinned(checked: Checked) -> tuple[str, dict[str, str], dict[str, Any]]:
    """The URL with the checked address in place of the name (no second lookup can differ),
    the Host header, and the TLS server name to verify."""
    parts = urlsplit(checked.url)
    if str(checked.address) == checked.host:
        return checked.url, {}, {}
    literal = f"[{checked.address}]" if checked.address.version == 6 else str(checked.address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return url, {"host": parts.netloc}, {"sni_hostname": checked.host}


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
        self._signers: dict[str, Webhook] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._store = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="webhook-store")
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None

    def start(self) -> None:
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name="webhook-delivery", daemon=True)
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
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._take, list(items))

    def created(self, messages: list[WebhookMessage]) -> None:
        self.submit((message.id, message.endpoint_id) for message in messages)

    @property
    def in_flight(self) -> int:
        return len(self._known)

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
        async with httpx.AsyncClient(follow_redirects=False, limits=limits) as client:
            self._client = client
            self._ready.set()
            await self._stopped.wait()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = None

    def _take(self, items: list[tuple[UUID, UUID]]) -> None:
        for message_id, endpoint_id in items:
            if message_id in self._known:
                continue
            lane = self._lanes.setdefault(endpoint_id, EndpointLane())
            if len(lane.waiting) >= BACKLOG:
                continue
            self._known.add(message_id)
            lane.waiting.append(message_id)
            self._pump(endpoint_id, lane)

    def _pump(self, endpoint_id: UUID, lane: EndpointLane) -> None:
        while lane.active < self.per_endpoint and lane.waiting:
            message_id = lane.waiting.popleft()
            lane.active += 1
            asyncio.get_running_loop().create_task(self._attempt(message_id, endpoint_id, lane))

    async def _attempt(self, message_id: UUID, endpoint_id: UUID, lane: EndpointLane) -> None:
        try:
            sending = await self._in_store(self.webhooks.sending, message_id)
            if sending is not None:
                await self._send(sending, lane)
        except asyncio.CancelledError:
            raise
        except Exception:  # the store failed: the message stays due, found by the next scan
            logger.debug("webhook message %s not attempted", message_id, exc_info=True)
        finally:
            lane.active -= 1
            self._known.discard(message_id)
            self._pump(endpoint_id, lane)

    async def _in_store(self, call: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._store, partial(call, *args))

    async def _send(self, sending: Sending, lane: EndpointLane) -> None:
        at = self.webhooks.atelier.clock()
        started = time.monotonic()
        status_code, error = await self._post(sending)
        duration_ms = round((time.monotonic() - started) * 1000)
        message = await self._in_store(
            self.webhooks.record_attempt, sending.message_id, at, status_code, error, duration_ms
        )
        self._log_change(sending, lane, message, status_code, error)

    async def _post(self, sending: Sending) -> tuple[int | None, str | None]:
        assert self._client is not None
        try:
            checked = await self.urls.check(sending.url)
        except RefusedUrl as refused:
            return None, f"refused: {refused}"
        url, host, extensions = pinned(checked)
        timestamp = int(time.time())
        signer = self._signers.get(sending.secret)
        if signer is None:
            signer = self._signers[sending.secret] = Webhook(sending.secret)
        msg_id = str(sending.message_id)
        body = sending.body.encode()
        headers = {
            **host,
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signer.sign(msg_id, datetime.fromtimestamp(timestamp, UTC), body),
        }
        request = self._client.build_request(
            "POST",
            url,
            content=body,
            headers=headers,
            timeout=self.timeout,
            extensions=extensions,
        )
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.send(request, stream=True)
                await response.aclose()
        except TimeoutError:
            return None, f"timed out after {self.timeout:g} s"
        except httpx.TimeoutException:
            return None, f"timed out after {self.timeout:g} s"
        except httpx.HTTPError as failure:
            return None, f"{type(failure).__name__}: {failure}"[:500]
        code = response.status_code
        if 200 <= code < 300:
            return code, None
        if response.is_redirect:
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
