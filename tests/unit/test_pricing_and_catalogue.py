"""Token cost, time estimates and the model catalogue."""

from __future__ import annotations

import pytest

from domain.catalogue import require_model
from domain.errors import ModelUnavailable
from domain.pricing import estimated_time, token_cost


@pytest.mark.parametrize(
    ("quality", "cost", "time"),
    [("standard", 1, "30-60 seconds"), ("high", 2, "1-2 minutes"), ("ultra", 2, "2-3 minutes")],
)
def test_cost_is_the_ceiling_of_the_quality_multiplier(quality: str, cost: int, time: str) -> None:
    assert token_cost(quality) == cost
    assert estimated_time(quality) == time


@pytest.mark.parametrize("ratio", ["1:1", "16:9", "9:16", "3:2", "2:3"])
def test_catalogue_model_supports_every_contract_ratio(ratio: str) -> None:
    assert require_model("gpt-4.1-dalle-3", ratio).enabled


def test_unknown_model_and_unsupported_ratio_are_model_errors() -> None:
    with pytest.raises(ModelUnavailable, match="Unknown model"):
        require_model("dall-e-9", "1:1")
    with pytest.raises(ModelUnavailable, match="does not support aspect ratio 4:5"):
        require_model("gpt-4.1-dalle-3", "4:5")
