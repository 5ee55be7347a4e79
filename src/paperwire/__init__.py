"""paperwire — self-hosted research-paper discovery.

The package folders are the data flow: ``sources`` (importers) → ``store``
(database) → ``index`` (search) → ``rank`` (trending, recommendations) →
``deliver`` (digests, feeds, webhooks) → ``web`` (site and JSON API), with
``cli`` on top.
"""

__version__ = "0.1.0"
