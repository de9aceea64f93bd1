"""The webhook service: in the leading process only, creates messages from the log and sends
the due ones; `atelier serve` runs it, and so does `atelier webhooks run`."""

from __future__ import annotations

import logging
import time
from functools import partial

from application.webhooks import BodyPresenter, Webhooks
from infrastructure.background import PeriodicThread
from infrastructure.locks.leadership import leadership
from infrastructure.projections.catch_up import catch_up
from infrastructure.projections.read_models import ReadModels, view_on
from infrastructure.projections.runner import Leadership
from infrastructure.projections.webhooks import WebhooksProjection
from infrastructure.settings import Settings
from infrastructure.webhooks.delivery import Delivery
from infrastructure.webhooks.message_follower import MessageCreation
from infrastructure.webhooks.url_check import DnsUrlCheck

logger = logging.getLogger(__name__)

SCAN_SECONDS = 0.5  # how often due messages (retries, a restart's backlog) are looked for
SCAN_LIMIT = 1000
POLL_SECONDS = 0.05


class WebhookService:
    """Started and stopped with a server (or `atelier webhooks run`); works while it leads."""

    name = "webhooks"

    def __init__(
        self,
        webhooks: Webhooks,
        models: ReadModels,
        urls: DnsUrlCheck,
        timeout_seconds: float,
        lead: Leadership | None,
        batch_size: int = 1000,
        poll_seconds: float = POLL_SECONDS,
        follow_view: bool = True,
    ) -> None:
        """`follow_view`: keep the `webhooks` view caught up here (off where the process's
        own projection runner does it)."""
        self.webhooks = webhooks
        self.models = models
        self.lead = lead
        self.batch_size = batch_size
        self.follow_view = follow_view
        self.delivery = Delivery(webhooks, urls, timeout_seconds)
        self.creation = MessageCreation(
            webhooks, partial(view_on, webhooks.atelier), self.delivery.created
        )
        self._leading = False
        self._scanned_at = 0.0
        self._thread = PeriodicThread("webhooks", self.tick, poll_seconds)

    def create_table(self) -> None:
        self.creation.create_table()

    def tick(self) -> bool:
        """Create what the log calls for, then hand due messages to delivery; True when busy."""
        if self.lead is not None and not self.lead.leads():
            if self._leading:
                logger.warning("webhooks: no longer leading; another process delivers")
            self._leading = False
            return False
        if not self._leading:
            logger.info("webhooks: leading; creating and delivering messages")
            self._leading = True
        atelier = self.webhooks.atelier
        applied = catch_up(atelier, self.creation, self.batch_size)
        if self.follow_view:  # the view the scan reads: retries need no other process
            catch_up(atelier, self.models.view(WebhooksProjection.name), self.batch_size)
        now = time.monotonic()
        if now - self._scanned_at >= SCAN_SECONDS:
            self._scanned_at = now
            due = self.models.webhooks.due(self.webhooks.atelier.clock(), SCAN_LIMIT)
            self.delivery.submit((d.message_id, d.endpoint_id) for d in due)
        return applied >= self.batch_size

    def start(self) -> None:
        self.delivery.start()
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self.delivery.stop()
        if self.lead is not None:
            self.lead.release()


def webhook_service(
    settings: Settings,
    webhooks: Webhooks,
    models: ReadModels,
    urls: DnsUrlCheck,
    in_server: bool = True,
) -> WebhookService:
    """In a server whose projection runner runs, that runner keeps the view caught up."""
    return WebhookService(
        webhooks,
        models,
        urls,
        settings.webhook_timeout_seconds,
        leadership(settings, "webhooks"),
        settings.projections_batch_size,
        follow_view=not (in_server and settings.projections_in_process),
    )


def build_webhooks(
    settings: Settings, models: ReadModels, present: BodyPresenter
) -> tuple[Webhooks, DnsUrlCheck]:
    urls = DnsUrlCheck(settings.webhook_allow_private)
    return Webhooks(
        models.atelier, urls, present, models.atelier.policy.webhook_retry_schedule
    ), urls
