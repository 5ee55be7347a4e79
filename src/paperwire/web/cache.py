"""A tiny in-process cache of rendered anonymous pages.

The daily page is what most visitors load, and for anonymous visitors it is
the same HTML for everyone. Keeping it for a few seconds turns a burst of
visitors into one database query. Any write in this process (vote, comment,
submission, moderation) clears the cache; other worker processes see the
change within ``ttl`` seconds.
"""

from __future__ import annotations

import asyncio
import threading
import time


class PageCache:
    def __init__(self, ttl: float = 5.0, max_entries: int = 512):
        self.ttl = ttl
        self.max_entries = max_entries
        self._items: dict[str, tuple[float, bytes]] = {}
        self._lock = threading.Lock()
        self._builders: dict[str, asyncio.Lock] = {}

    def get(self, key: str) -> bytes | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def put(self, key: str, body: bytes) -> None:
        with self._lock:
            if len(self._items) >= self.max_entries:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, body)

    def lock_for(self, key: str) -> asyncio.Lock:
        """An asyncio lock per page, so only one request rebuilds it."""
        if len(self._builders) > self.max_entries:
            self._builders = {k: v for k, v in self._builders.items() if v.locked()}
        return self._builders.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
