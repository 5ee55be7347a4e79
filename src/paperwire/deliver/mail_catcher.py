"""The demo's offline mail loop: a local SMTP catcher and the mails it caught.

``paperwire demo`` runs :class:`MailCatcher` (aiosmtpd, in its own thread and
event loop) on a free port of 127.0.0.1 and points the site's SMTP settings at
it, so subscribing works without a mail server. Each mail is stored in a
Maildir folder (``$PAPERWIRE_DEMO_MAILBOX``); :func:`read_mailbox` gives the
web page (``/demo/mailbox``) what it shows. Nothing leaves the machine.

aiosmtpd comes with the ``demo`` extra (``pip install paperwire[demo]``,
which ``scripts/demo`` installs); without it the demo runs with no mailbox.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

#: http(s) links in a text body; a trailing full stop or bracket is punctuation, not URL.
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


class MailCatcherUnavailable(RuntimeError):
    """aiosmtpd is not installed (it comes with ``paperwire[demo]``)."""


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class MailCatcher:
    """A local SMTP server storing every mail it receives in a Maildir folder.

    Use as a context manager; ``host`` and ``port`` say where it listens.
    """

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0):
        try:
            from aiosmtpd.controller import Controller
            from aiosmtpd.handlers import Mailbox
        except ImportError as exc:
            raise MailCatcherUnavailable(
                "the demo mailbox needs aiosmtpd: pip install 'paperwire[demo]' (scripts/demo does)") from exc
        self.folder = Path(folder)
        for part in ("tmp", "new", "cur"):  # a Maildir, even if the folder exists already
            (self.folder / part).mkdir(parents=True, exist_ok=True)
        self.host = host
        self.port = port or _free_port(host)
        self._controller = Controller(Mailbox(self.folder), hostname=host, port=self.port)

    def __enter__(self) -> MailCatcher:
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


@dataclass
class CaughtMail:
    """One mail as the mailbox page shows it: headers, bodies, and the links in it."""

    key: str
    sender: str
    to: str
    subject: str
    date: datetime | None
    text: str | None
    html: str | None
    #: List-Unsubscribe URLs (RFC 2369) and whether one-click POST is offered (RFC 8058).
    unsubscribe: list[str] = field(default_factory=list)
    one_click: bool = False
    links: list[str] = field(default_factory=list)


def _caught(key: str, message: EmailMessage) -> CaughtMail:
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else None
    html = html_part.get_content() if html_part is not None else None
    try:
        when = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        when = None
    unsubscribe = re.findall(r"<(https?://[^>]+)>", str(message.get("List-Unsubscribe", "")))
    links = list(dict.fromkeys(_URL.findall(text or "") + re.findall(r'href="(https?://[^"]+)"', html or "")))
    return CaughtMail(
        key=key, sender=str(message.get("From", "")), to=str(message.get("To", "")),
        subject=str(message.get("Subject", "(no subject)")), date=when, text=text, html=html,
        unsubscribe=unsubscribe, one_click="One-Click" in str(message.get("List-Unsubscribe-Post", "")),
        links=[link.replace("&amp;", "&") for link in links],
    )


def _messages(folder: Path) -> list[tuple[str, EmailMessage]]:
    if not (folder / "cur").is_dir():
        return []
    box = mailbox.Maildir(folder, factory=None, create=False)
    out = []
    for key in box.keys():
        try:
            with box.get_file(key) as handle:
                out.append((key, email.message_from_binary_file(handle, policy=email.policy.default)))
        except (OSError, KeyError):  # removed while reading
            continue
    return out


def _delivered_at(key: str) -> tuple[int, int]:
    """When the catcher stored a mail, from its Maildir key ("<seconds>.M<microseconds>P…").

    The Date header has whole seconds, so two mails of one second need this to
    keep their order; the key's digits vary in length, so they are compared as numbers.
    """
    match = re.match(r"(\d+)\.M(\d+)", key)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def read_mailbox(folder: Path) -> list[CaughtMail]:
    """Every caught mail, newest first."""
    mails = [_caught(key, message) for key, message in _messages(Path(folder))]
    return sorted(mails, key=lambda m: (m.date.timestamp() if m.date else 0.0, _delivered_at(m.key)), reverse=True)


def read_mail(folder: Path, key: str) -> CaughtMail | None:
    """One caught mail by its Maildir key (``None`` if there is none)."""
    folder = Path(folder)
    if not re.fullmatch(r"[\w.,:=-]+", key or "") or not (folder / "cur").is_dir():
        return None
    try:
        with mailbox.Maildir(folder, factory=None, create=False).get_file(key) as handle:
            return _caught(key, email.message_from_binary_file(handle, policy=email.policy.default))
    except (KeyError, OSError):
        return None
