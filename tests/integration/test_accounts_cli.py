"""`atelier accounts grant` refuses a reason the API refuses, and grants nothing."""

from __future__ import annotations

import pytest

from cli import main
from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory
from tests.support.stores import settings_env


@pytest.mark.parametrize("reason", ["", "x" * 501, "gift\x00", "gift\udfff"])
def test_a_grant_reason_the_api_refuses_is_refused(
    sqlite_only: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    reason: str,
) -> None:
    settings = sqlite_only()
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    assert main(["accounts", "open", "alice", "--tokens", "1"]) == 0
    assert main(["accounts", "grant", "alice", "5", "--reason", reason]) == 1
    assert capsys.readouterr().err.startswith("atelier accounts grant: reason: ")
    atelier = build_application(settings)
    try:
        assert atelier.get_account("alice").record.balance == 1
    finally:
        atelier.close()
    assert main(["accounts", "grant", "alice", "5", "--reason", "line\tone\nline two"]) == 0
