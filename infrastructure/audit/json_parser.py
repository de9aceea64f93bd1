"""The JSON parser `atelier audit` decodes stored events with: orjson.

The replay decodes every event of the log; at a million events the standard library's parser
takes three times as long as orjson, a measurable share of the whole audit. The application
layer takes the parser as a parameter (it may import nothing but the domain and the event
library), and hands whatever this parser refuses (NaN, integers beyond 64 bits) to the
application's own mapper, so a faster parser can only make the audit faster, not stricter.
"""

from __future__ import annotations

from typing import Any

import orjson


def parse_json(stored: bytes) -> Any:
    """Python values from stored JSON (ValueError when it is not JSON orjson reads)."""
    return orjson.loads(stored)
