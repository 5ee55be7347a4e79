"""``paperwire worker``: every schedule and every piece of derived state.

- :mod:`.jobs` — what runs (harvests, the harvest queue, embedding backfill,
  publishing the vector index, digests and webhooks, purges), from settings;
- :mod:`.runner` — when: each due job once, under its job lock, however many
  workers run side by side;
- :mod:`.status` — what happened, for ``paperwire status`` and the admin page.
"""
