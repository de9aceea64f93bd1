"""Each read model of application/audit/registry.py's VIEWS beside the check that compares it."""

from infrastructure.audit.checks.activity import ActivityCheck
from infrastructure.audit.checks.dashboard import DashboardCheck
from infrastructure.audit.checks.images import ImagesCheck
from infrastructure.audit.checks.pending_queue import PendingQueueCheck
from infrastructure.audit.checks.rate_limits import RateLimitCheck
from infrastructure.audit.checks.user_generations import UserGenerationsCheck
from infrastructure.audit.checks.view_check import ViewCheck
from infrastructure.audit.checks.webhooks import WebhooksCheck

CHECKS: dict[str, type[ViewCheck]] = {
    "pending_queue": PendingQueueCheck,
    "rate_limits": RateLimitCheck,
    "user_generations": UserGenerationsCheck,
    "images": ImagesCheck,
    "dashboard_totals": DashboardCheck,
    "activity": ActivityCheck,
    "webhooks": WebhooksCheck,
}
