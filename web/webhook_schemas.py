"""The body of POST /api/admin/webhooks, and the query of a webhook's message list."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.webhook_types import WebhookType
from web.schemas import STRICT, Text

MAX_DESCRIPTION = 500


class WebhookBody(BaseModel):
    model_config = STRICT

    url: Text
    events: list[WebhookType] | None = Field(None, min_length=1, max_length=20)
    description: Text = Field("", max_length=MAX_DESCRIPTION)
