"""Bearer token verification: only HS256 with our secret, a future exp and a valid sub."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from infrastructure import tokens
from infrastructure.tokens import InvalidToken, TokenVerifier, mint_token, verify_token

SECRET = "s" * 64
NOW = datetime.now(UTC)


def encode(claims: dict[str, Any], key: str = SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


VALID = {"sub": "alice", "exp": NOW + timedelta(hours=1)}


def test_minted_token_verifies_with_its_role() -> None:
    principal = verify_token(SECRET, mint_token(SECRET, "ops@team", role="admin"))
    assert (principal.user_id, principal.role) == ("ops@team", "admin")


def test_role_defaults_to_user() -> None:
    assert verify_token(SECRET, encode(VALID)).role == "user"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(
            unsigned(json.loads(json.dumps(VALID, default=lambda d: int(d.timestamp())))),
            id="alg-none",
        ),
        pytest.param(encode(VALID, algorithm="HS512"), id="hs512"),
        pytest.param(encode(VALID, algorithm="HS384"), id="hs384"),
        pytest.param(encode(VALID, key="x" * 64), id="wrong-secret"),
        pytest.param(encode({"sub": "alice"}), id="no-exp"),
        pytest.param(encode({**VALID, "exp": NOW - timedelta(seconds=1)}), id="expired"),
        pytest.param(encode({"exp": VALID["exp"]}), id="no-sub"),
        pytest.param(encode({**VALID, "sub": ""}), id="empty-sub"),
        pytest.param(encode({**VALID, "sub": "a" * 129}), id="long-sub"),
        pytest.param(encode({**VALID, "sub": "bad user"}), id="sub-with-space"),
        pytest.param(encode({**VALID, "sub": 42}), id="numeric-sub"),
        pytest.param(encode({**VALID, "sub": "alice\n"}), id="sub-with-trailing-newline"),
        pytest.param(encode({**VALID, "exp": str(int(VALID["exp"].timestamp()))}), id="string-exp"),
        pytest.param(encode({**VALID, "exp": True}), id="boolean-exp"),
        pytest.param(encode({**VALID, "role": "root"}), id="unknown-role"),
        pytest.param("not.a.token", id="garbage"),
        pytest.param(encode(VALID)[:-2], id="truncated-signature"),
    ],
)
def test_attacks_and_incomplete_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken):
        verify_token(SECRET, token)


def test_minting_refuses_a_subject_with_a_trailing_newline() -> None:
    with pytest.raises(ValueError, match="user id"):
        mint_token(SECRET, "alice\n")


def test_tampered_claims_fail_the_signature() -> None:
    header, _, signature = encode(VALID).split(".")
    forged = (
        base64.urlsafe_b64encode(
            json.dumps({"sub": "admin", "role": "admin", "exp": 9999999999}).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    with pytest.raises(InvalidToken):
        verify_token(SECRET, f"{header}.{forged}.{signature}")


def test_verifier_remembers_valid_tokens_but_not_past_their_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = tokens.TokenVerifier(SECRET, size=2)
    token = mint_token(SECRET, "alice", ttl_seconds=60)
    assert verifier.verify(token).user_id == "alice"
    calls: list[str] = []
    monkeypatch.setattr(tokens, "verify_token", lambda *args: calls.append("verify"))
    assert verifier.verify(token).user_id == "alice"  # remembered: not verified again
    assert calls == []
    later = NOW.timestamp() + 3600
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_verifier_refuses_what_verify_token_refuses() -> None:
    verifier = TokenVerifier(SECRET)
    with pytest.raises(InvalidToken):
        verifier.verify(encode(VALID, key="x" * 64))
    with pytest.raises(InvalidToken):
        verifier.verify(encode(VALID, key="x" * 64))  # a refusal is never remembered


def test_verifier_memory_is_bounded() -> None:
    verifier = TokenVerifier(SECRET, size=3)
    for n in range(10):
        verifier.verify(mint_token(SECRET, f"user-{n}"))
    assert len(verifier._verified) == 3
