"""The account's e-mail address in /settings: add or change it (a
verification mail), resend the link, and the page the mailed link opens.

The link's page only shows a button: mail scanners that prefetch links must
not verify an address for whoever typed it. The button's POST (CSRF
protected, no login needed: the signed link is the proof) verifies it.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.deliver.account_mail import MAIL_DOWN, MailError
from paperwire.deliver.subscriptions import DeliveryError, normalise_email
from paperwire.deliver.tokens import read_verify_token
from paperwire.deliver.verification import confirm_address, request_address, resend_verification
from paperwire.store.community import CommunityError, User
from paperwire.store.db import Database
from paperwire.web.deps import current_user, get_db, render, require_user, signed_link_or_400, templates, verify_csrf
from paperwire.web.views.users import settings_response

router = APIRouter(include_in_schema=False)
NOTICES = {
    "sent": "Check your inbox: we sent a verification link. Nothing else is sent to the address before you click it.",
    "unchanged": "That already is your verified address.",
}


def account_email_state(request: Request) -> dict:
    """Context for ``account/email_section.html``, read fresh (the request's user may be stale)."""
    user = current_user(request)
    if user is None:
        return {}
    with get_db(request).session() as session:
        fresh = session.get(User, user.id)
        verified, pending = fresh.verified_email, fresh.pending_email
        unverified = fresh.email if fresh.email and not verified else None
    return {"verified": verified, "pending": pending or unverified,
            "notice": NOTICES.get(request.query_params.get("email", ""))}


templates.env.globals["account_email_state"] = account_email_state


def _mail_step(request: Request, db: Database, user: User, step) -> Response:
    """Run ``step(session, fresh_user)`` (which may mail); the settings page says how it went."""
    try:
        with db.session() as session:
            reason = step(session, session.get(User, user.id))
    except MailError:
        return settings_response(request, db, user, 503, error=MAIL_DOWN)
    if reason:
        return settings_response(request, db, user, email_notice=reason)
    return RedirectResponse("/settings?email=sent#email", status_code=303)


@router.post("/settings/email", dependencies=[Depends(verify_csrf)])
def change_email(request: Request, email: str = Form(""), user: User = Depends(require_user),
                 db: Database = Depends(get_db)) -> Response:
    try:
        address = normalise_email(email)
    except DeliveryError as exc:
        return settings_response(request, db, user, 422, error=str(exc), email_value=email)
    with db.session() as session:
        current = session.get(User, user.id).verified_email
    if current and current.lower() == address.lower():
        with db.session() as session:
            session.get(User, user.id).pending_email = None
        return RedirectResponse("/settings?email=unchanged#email", status_code=303)
    return _mail_step(request, db, user, lambda session, fresh: request_address(session, fresh, address))


@router.post("/settings/email/resend", dependencies=[Depends(verify_csrf)])
def resend(request: Request, user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    return _mail_step(request, db, user, resend_verification)


@router.get("/account/verify/{token}", response_class=HTMLResponse)
def verify_page(request: Request, token: str) -> Response:
    _, address = signed_link_or_400(read_verify_token, token)
    return render(request, "account/verify.html", token=token, address=address, done=False)


@router.post("/account/verify/{token}", dependencies=[Depends(verify_csrf)])
def verify(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    user_id, address = signed_link_or_400(read_verify_token, token)
    try:
        with db.session() as session:
            user = confirm_address(session, user_id, address)
            address = user.email
    except CommunityError as exc:
        raise HTTPException(400, str(exc)) from exc
    return render(request, "account/verify.html", token=token, address=address, done=True)
