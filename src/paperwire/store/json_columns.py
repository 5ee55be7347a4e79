"""JSON text for JSON columns: the one serialiser the engine and the bulk insert share.

orjson is several times faster than the standard library both ways (a search
page decodes a dozen JSON columns per paper; a bulk import encodes several
per row); the standard library takes what orjson refuses (``NaN``, integers
beyond 64 bits), so every value the ORM accepted before still round-trips.
"""

from __future__ import annotations

import json

import orjson


def dumps(value) -> str:
    """Compact JSON text of ``value``."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def loads(text: str | bytes):
    """The value of JSON ``text``."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)
