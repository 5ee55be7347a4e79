"""Wiring the demo's local mail catcher into ``paperwire demo``.

While the demo serves, a :class:`~paperwire.deliver.mail_catcher.MailCatcher`
listens on a free port of 127.0.0.1 and the site's settings point at it (SMTP
host and port, no login or TLS, ``demo_mailbox`` on, and the base URL of this
demo so links in mails lead back here). The settings are environment
variables of this process only: ``paperwire serve`` never sees them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from paperwire.settings import get_settings


@contextmanager
def demo_mailbox(host: str, port: int, log: Callable[[str], object] = print) -> Iterator[str | None]:
    """Run the catcher around the demo server; yields the mailbox page URL (``None``
    when aiosmtpd is missing: the demo then runs without it and says how to get it)."""
    from paperwire.deliver.mail_catcher import MailCatcher, MailCatcherUnavailable

    folder = get_settings().resolved_data_dir() / "demo-mailbox"
    try:
        catcher = MailCatcher(folder)
    except MailCatcherUnavailable as exc:
        log(f"No demo mailbox: {exc}. Subscribing will fail without an SMTP server.")
        yield None
        return
    site = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    env = {
        "PAPERWIRE_SMTP_HOST": catcher.host, "PAPERWIRE_SMTP_PORT": str(catcher.port),
        "PAPERWIRE_SMTP_USER": "", "PAPERWIRE_SMTP_PASSWORD": "",
        "PAPERWIRE_SMTP_STARTTLS": "false", "PAPERWIRE_SMTP_SSL": "false",
        "PAPERWIRE_DEMO_MAILBOX": str(folder),
    }
    if "PAPERWIRE_BASE_URL" not in os.environ:
        env["PAPERWIRE_BASE_URL"] = site
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        with catcher:
            yield f"{site}/demo/mailbox"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()
