"""The JSON parser `atelier audit` decodes stored events with: orjson.

The replay decodes every event of the log; at a million events the standard library's parser
takes three times as long as orjson, a measurable share of the whole audit. The application
layer takes the parser as a parameter (it may import nothing but the domain and the event
library), and hands whatever this parser refuses (NaN, integers beyond 64 bits) to the
application's own mapper, so a faster parser can only make the audit faster, not stricter.
orjson's own function is handed in, not a wrapper: it is called once per event, and its error
(orjson.JSONDecodeError) is a ValueError, as the replay expects.
"""

from __future__ import annotations

import orjson

from application.audit.reading import JsonParser

parse_json: JsonParser = orjson.loads
