"""`atelier history ID`: a generation's or an account's events as a readable timeline."""

from __future__ import annotations

import pytest

from cli import main
from infrastructure.bootstrap import build_application
from tests.conftest import SettingsFactory
from tests.support.builders import generation_request
from tests.support.stores import settings_env


def test_history_prints_a_timeline_for_a_generation_or_a_user(
    sqlite_only: SettingsFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = sqlite_only()
    for name, value in settings_env(settings).items():
        monkeypatch.setenv(name, value)
    atelier = build_application(settings)
    try:
        atelier.open_account("alice", 5)
        generation_id = atelier.submit_generation("alice", generation_request()).generation_id
    finally:
        atelier.close()

    assert main(["history", str(generation_id)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"generation {generation_id} of alice: 2 events, oldest first")
    assert out.index("v1 ") < out.index("GenerationRequested") < out.index("v2 ")
    assert "ImageLinked" in out
    assert "token_cost      1" in out

    assert main(["history", "alice"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("account ")
    assert [line.split()[-1] for line in out.splitlines() if line.startswith("v")] == [
        "AccountOpened",
        "TokensReserved",
    ]

    assert main(["history", "nobody"]) == 1
    assert "nothing is recorded for nobody" in capsys.readouterr().err
