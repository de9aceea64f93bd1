"""Account use cases: open, grant, disable, enable, and read a user's account."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from application.base import AtelierBase
from application.errors import AccountExists, AccountNotFound
from application.idempotency import IdempotencyKey
from application.retries import retry_on_conflict
from application.views import AccountRecord, AccountSummary, RateLimitStatus
from domain.accounts import TokenAccount
from domain.identifiers import account_id
from domain.requests import fingerprint


class AccountUseCases(AtelierBase):
    def open_account(self, user_id: str, tokens: int = 0) -> AccountSummary:
        now = self.clock()
        account = TokenAccount.open(user_id, tokens, now)
        try:
            self.save(account)
        except IntegrityError:
            # The id is derived from the user id, so a clash means the account exists.
            raise AccountExists(user_id) from None
        return self.summarise(account)

    def grant_tokens(
        self, user_id: str, amount: int, reason: str, idempotency_key: str | None = None
    ) -> tuple[AccountSummary, bool]:
        """The account right after the grant, and whether this was an idempotent replay."""
        key = None
        if idempotency_key is not None:
            key = IdempotencyKey(idempotency_key, fingerprint(("grant", amount, reason)))

        def decide_and_save() -> tuple[AccountSummary, bool]:
            now = self.clock()
            account = self.load_account(user_id)
            if key is not None:
                answer = account.recall("grant", key.key, key.fingerprint, now)
                if answer is not None:
                    then: TokenAccount = self.repository.get(account.id, version=int(answer))
                    return self.summarise(then), True
            remember = key.remembered_until(now, self.policy.idempotency_ttl) if key else None
            account.grant(amount, reason, now, remember)
            self.save(account)
            return self.summarise(account), False

        return retry_on_conflict(decide_and_save)

    def disable_account(self, user_id: str, reason: str) -> AccountSummary:
        def decide_and_save() -> AccountSummary:
            account = self.load_account(user_id)
            account.disable(reason, self.clock())
            self.save(account)
            return self.summarise(account)

        return retry_on_conflict(decide_and_save)

    def enable_account(self, user_id: str) -> AccountSummary:
        def decide_and_save() -> AccountSummary:
            account = self.load_account(user_id)
            account.enable(self.clock())
            self.save(account)
            return self.summarise(account)

        return retry_on_conflict(decide_and_save)

    def get_account(self, user_id: str, version: int | None = None) -> AccountSummary:
        if version is None:
            return self.summarise(self.load_account(user_id))
        try:
            account: TokenAccount = self.repository.get(account_id(user_id), version=version)
        except AggregateNotFoundError:
            raise AccountNotFound(user_id) from None
        if account.version != version:  # the account has not reached that version yet
            raise AccountNotFound(user_id)
        return self.summarise(account, as_of=account.modified_on)

    def require_active_account(self, user_id: str) -> None:
        """AccountNotFound / AccountDisabled unless the user may use the service."""
        self.load_account(user_id).require_active()

    def summarise(self, account: TokenAccount, as_of: datetime | None = None) -> AccountSummary:
        now = as_of or self.clock()
        rate_limit = RateLimitStatus.of(account, self.policy.hourly_limit, now)
        return AccountSummary(AccountRecord.of(account), rate_limit)
