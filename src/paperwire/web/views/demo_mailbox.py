"""``/demo/mailbox``: the mails the demo's local catcher received, shown safely.

Only while ``$PAPERWIRE_DEMO_MAILBOX`` is set (``paperwire demo`` sets it);
otherwise every page here is a 404, so a real deployment never exposes it.
Mail text is escaped; an HTML mail is shown in an iframe with ``sandbox``
(no scripts, no same-origin access, no forms) from ``srcdoc``, its links made to
open in a new tab, because the site itself refuses to be framed. The
confirmation and unsubscribe links are also listed as plain links, and a
one-click unsubscribe (RFC 8058) is a real POST button, as a mail client sends it.
"""

from __future__ import annotations

from pathlib import Path

import lxml.html
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from lxml.etree import ParserError

from paperwire.deliver.mail_catcher import read_mail, read_mailbox
from paperwire.settings import get_settings
from paperwire.store.db import Database
from paperwire.web.deps import get_db, render, templates, verify_csrf

router = APIRouter(include_in_schema=False)


def _folder() -> Path:
    folder = get_settings().demo_mailbox
    if folder is None:
        raise HTTPException(404, "There is nothing at this address.")
    return Path(folder)


def _demo_mailbox_on() -> bool:
    return get_settings().demo_mailbox is not None


# Base template: a "Mailbox" link in the header while the demo mailbox is on.
templates.env.globals.setdefault("demo_mailbox_on", _demo_mailbox_on)


def framed_html(html: str) -> str:
    """An HTML mail for ``<iframe sandbox srcdoc>``: links open in a new tab (the site
    cannot be framed) and nothing but the document itself is kept."""
    try:
        document = lxml.html.document_fromstring(html)
    except (ParserError, ValueError):
        return ""
    for link in document.iter("a"):
        link.set("target", "_blank")
        link.set("rel", "noopener noreferrer")
    for bad in document.xpath("//script|//iframe|//object|//embed|//form|//base|//meta[@http-equiv]"):
        bad.drop_tree()
    return lxml.html.tostring(document, encoding="unicode")


@router.get("/demo/mailbox", response_class=HTMLResponse)
def mailbox_page(request: Request) -> Response:
    folder = _folder()
    sent = request.query_params.get("sent")
    return render(request, "demo/mailbox.html", mails=read_mailbox(folder), folder=str(folder),
                  sent=int(sent) if sent and sent.isdigit() else None)


@router.post("/demo/mailbox/send-digest", dependencies=[Depends(verify_csrf)])
def send_digest_now(db: Database = Depends(get_db)) -> Response:
    """Send the daily digest of the newest featured day to confirmed subscribers now
    (the worker would at its hour), so the demo shows a digest and its one-click unsubscribe."""
    from paperwire.deliver.send import send_digests
    from paperwire.rank.trending import featured_days

    _folder()  # 404 unless the demo mailbox is on
    with db.session() as session:
        days = featured_days(session)
    if not days:
        return RedirectResponse("/demo/mailbox?sent=0", status_code=303)
    report = send_digests(db, day=days[-1], frequency="daily")
    return RedirectResponse(f"/demo/mailbox?sent={report.sent}", status_code=303)


@router.get("/demo/mailbox/{key}", response_class=HTMLResponse)
def mail_page(request: Request, key: str) -> Response:
    mail = read_mail(_folder(), key)
    if mail is None:
        raise HTTPException(404, "No such mail in the demo mailbox.")
    return render(request, "demo/mail.html", mail=mail, framed=framed_html(mail.html) if mail.html else None)
