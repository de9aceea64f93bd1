"""Bearer tokens: HS256 JSON Web Tokens, minted by the CLI and verified by the web layer."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime, timedelta

import jwt

from application.principals import ROLES, InvalidToken, Principal
from domain.identifiers import USER_ID

ALGORITHM = "HS256"


def mint_token(
    secret: str,
    user_id: str,
    role: str = "user",
    ttl_seconds: int = 3600,
    now: datetime | None = None,
) -> str:
    """A signed token for `user_id` with `role`, valid for `ttl_seconds`."""
    if not USER_ID.fullmatch(user_id):
        raise ValueError("user id must be 1-128 characters of A-Z a-z 0-9 _ . @ : -")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "role": role,
        "iat": issued,
        "exp": issued + timedelta(seconds=ttl_seconds),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """The principal a token names, or InvalidToken (HS256 only; `exp` and a valid `sub` needed)."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not USER_ID.fullmatch(subject):  # "alice\n" is not alice
        raise InvalidToken("the token's subject is not a valid user id")
    expires = claims["exp"]
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        raise InvalidToken("the token's exp is not a number")
    role = claims.get("role", "user")
    if role not in ROLES:
        raise InvalidToken("the token's role is not one of " + ", ".join(ROLES))
    return Principal(user_id=subject, role=role, expires_at=float(expires))


class TokenVerifier:
    """The TokenVerification port: verify_token with a bounded memory of tokens already verified."""

    def __init__(self, secret: str, size: int = 4096) -> None:
        self.secret = secret
        self.size = size
        self._verified: OrderedDict[str, Principal] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        with self._lock:
            principal = self._verified.get(token)
            if principal is not None:
                self._verified.move_to_end(token)
        if principal is None:
            principal = verify_token(self.secret, token)
            with self._lock:
                self._verified[token] = principal
                while len(self._verified) > self.size:
                    self._verified.popitem(last=False)
        if principal.expires_at <= time.time():
            with self._lock:
                self._verified.pop(token, None)
            raise InvalidToken("the token has expired")
        return principal
