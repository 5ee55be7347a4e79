"""Delivery pages: subscribe (double opt-in), confirm, one-click unsubscribe,
feeds with HTTP caching, and the delivery part of /settings.

A user's private feeds — ``/feeds/user/{token}.{fmt}`` (what they follow) and
``/feeds/for-you/{token}.{fmt}`` (their recommendations) — share one secret,
revocable token, since feed readers cannot log in; an unknown or revoked
token is a 404.

Every browser form is CSRF-protected except ``POST /unsubscribe/{token}``:
RFC 8058 one-click requests come from mail providers without cookies, and the
signed token in the URL is what authorises them. ``GET /unsubscribe/{token}``
only shows a button, so link scanners that prefetch URLs unsubscribe no one.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from paperwire.deliver import subscriptions as subs
from paperwire.deliver.feeds import (
    FORMATS, category_feed, etag_of, for_you_feed, last_modified_header, not_modified, render_feed, search_feed,
    trending_feed, user_feed,
)
from paperwire.deliver.account_mail import MAIL_DOWN, MailError
from paperwire.deliver.tokens import InvalidToken, read_change_token, read_confirm_token, read_unsubscribe_token
from paperwire.deliver.verification import mail_change_confirmation, mail_subscribe_confirmation
from paperwire.deliver.webhooks import send_test
from paperwire.store.community import User, rate_limited
from paperwire.store.db import Database
from paperwire.store.delivery import Webhook
from paperwire.web.deps import current_user, get_db, render, require_user, signed_link_or_400, templates, verify_csrf
from paperwire.web.security import client_key

router = APIRouter(include_in_schema=False)
SUBSCRIBE_LIMIT = (5, timedelta(hours=1))
NOTICES = {
    "saved": "Your digest settings were saved.",
    "confirm": "Check your inbox: we sent a confirmation link before any digest goes out.",
    "verify-first": "Add and verify your e-mail address (above) before choosing a digest; nothing was saved.",
    "change-sent": "Your address already receives a digest that is not linked to your account. We mailed it a "
                   "link: your settings apply once you confirm them from that inbox.",
    "change-pending": "Your settings wait for confirmation from your inbox. We mailed a link recently (we send at "
                      "most one every few minutes); clicking it applies these newest settings.",
    "revoked": "Your private feed URL was revoked.",
    "hook-added": "Webhook added.",
    "hook-deleted": "Webhook deleted.",
    "hook-ok": "Test delivery succeeded.",
    "hook-failed": "Test delivery failed: see the history below.",
}


# -- subscribe / confirm / unsubscribe -----------------------------------------
@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request) -> Response:
    user = current_user(request)
    return render(request, "delivery/subscribe.html", error=None, email=(user.email if user else "") or "",
                  frequency="daily")


@router.post("/subscribe", dependencies=[Depends(verify_csrf)])
def subscribe(request: Request, email: str = Form(""), frequency: str = Form("daily"),
              categories: str = Form(""), keywords: str = Form(""), db: Database = Depends(get_db)) -> Response:
    """Double opt-in. The row and its confirmation mail share one transaction, so
    a mail server that does not answer leaves no pending row behind."""
    try:
        address = subs.normalise_email(email)
        topics = subs.make_topics(categories=categories, keywords=keywords)
        limit, window = SUBSCRIBE_LIMIT
        with db.session() as session:
            if rate_limited(session, f"subscribe:{client_key(request)}", limit=limit, window=window) or \
                    rate_limited(session, f"subscribe:{address.lower()}", limit=3, window=window):
                raise HTTPException(429, "Too many subscription attempts; try again in an hour.")
        with db.session() as session:
            sub, needs_mail = subs.subscribe_email(session, address, frequency=frequency, topics=topics)
            if needs_mail:
                mail_subscribe_confirmation(session, sub)  # over the per-address limit: no new mail
    except subs.DeliveryError as exc:
        return render(request, "delivery/subscribe.html", status_code=422, error=str(exc), email=email,
                      frequency=frequency)
    except MailError:
        return render(request, "delivery/subscribe.html", status_code=503, error=MAIL_DOWN, email=email,
                      frequency=frequency)
    # Same answer whether or not the address was already subscribed (no address probing).
    return render(request, "delivery/subscribe_sent.html", email=address)


@router.get("/subscribe/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    try:
        sub_id, email = read_confirm_token(token)
    except InvalidToken as exc:
        raise HTTPException(400, str(exc)) from exc
    with db.session() as session:
        sub = subs.confirm(session, sub_id, email)
        if sub is None:
            raise HTTPException(404, "This subscription no longer exists; please subscribe again.")
        frequency = sub.frequency
    return render(request, "delivery/confirmed.html", email=email, frequency=frequency)


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    try:
        read_unsubscribe_token(token)
    except InvalidToken as exc:
        raise HTTPException(400, str(exc)) from exc
    return render(request, "delivery/unsubscribe.html", token=token, done=False)


@router.post("/unsubscribe/{token}")
async def unsubscribe(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) or the page's button."""
    try:
        sub_id = read_unsubscribe_token(token)
    except InvalidToken as exc:
        raise HTTPException(400, str(exc)) from exc
    form = await request.form() if "form" in request.headers.get("content-type", "") else {}

    def finish() -> Response:  # database work off the event loop
        with db.session() as session:
            subs.unsubscribe(session, sub_id)
        if form.get("List-Unsubscribe") == "One-Click" and form.get("from") != "page":
            return PlainTextResponse("You are unsubscribed.\n")
        return render(request, "delivery/unsubscribe.html", token=token, done=True)

    return await run_in_threadpool(finish)


# -- feeds -----------------------------------------------------------------------
def _feed_response(request: Request, feed, fmt: str, *, private: bool = False) -> Response:
    if fmt not in FORMATS:
        raise HTTPException(404, "Feeds come as .rss, .atom or .json.")
    body = render_feed(feed, fmt, str(request.url))
    etag = etag_of(body)
    headers = {
        "ETag": etag, "Last-Modified": last_modified_header(feed),
        "Cache-Control": ("private" if private else "public") + ", max-age=300",
        "Vary": "Accept-Encoding",
    }
    if not_modified(etag, feed.updated, request.headers.get("if-none-match"), request.headers.get("if-modified-since")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=FORMATS[fmt], headers=headers)


@router.get("/feeds/trending.{fmt}")
def trending_feed_route(request: Request, fmt: str, db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        feed = trending_feed(session)
    return _feed_response(request, feed, fmt)


@router.get("/feeds/search.{fmt}")
def search_feed_route(request: Request, fmt: str, q: str = Query("", max_length=500),
                      db: Database = Depends(get_db)) -> Response:
    try:
        feed = search_feed(db, q)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _feed_response(request, feed, fmt)


@router.get("/feeds/category/{category}.{fmt}")
def category_feed_route(request: Request, category: str, fmt: str, db: Database = Depends(get_db)) -> Response:
    try:
        with db.session() as session:
            feed = category_feed(session, category)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return _feed_response(request, feed, fmt)


@router.get("/feeds/topics/rising.{fmt}")
def rising_topics_feed_route(request: Request, fmt: str, period: str = Query("week", pattern="^(week|month)$"),
                             db: Database = Depends(get_db)) -> Response:
    from paperwire.deliver.topic_feed import rising_feed

    with db.session() as session:
        feed = rising_feed(session, period)
    return _feed_response(request, feed, fmt)


#: A user's private feeds, by URL part: ``/feeds/<part>/{token}.{fmt}``.
PRIVATE_FEEDS = ("user", "for-you")


def private_feed_urls(base: str, token: str) -> dict[str, dict[str, str]]:
    """``{"user": {"rss": url, …}, "for-you": {…}}`` for a freshly issued token."""
    return {part: {fmt: f"{base}/feeds/{part}/{token}.{fmt}" for fmt in FORMATS} for part in PRIVATE_FEEDS}


def _private_feed_response(request: Request, db: Database, token: str, fmt: str, build) -> Response:
    """``build(session, user_id, subscription)`` for the token's user; 404 for an unknown or revoked token."""
    with db.session() as session:
        user_id = subs.feed_token_user(session, token)
        if user_id is None:
            raise HTTPException(404, "This private feed does not exist or was revoked.")
        feed = build(session, user_id, subs.user_subscription(session, user_id))
    return _feed_response(request, feed, fmt, private=True)


@router.get("/feeds/user/{token}.{fmt}")
def user_feed_route(request: Request, token: str, fmt: str, db: Database = Depends(get_db)) -> Response:
    return _private_feed_response(request, db, token, fmt, user_feed)


@router.get("/feeds/for-you/{token}.{fmt}")
def for_you_feed_route(request: Request, token: str, fmt: str, db: Database = Depends(get_db)) -> Response:
    return _private_feed_response(request, db, token, fmt, for_you_feed)


# -- settings ------------------------------------------------------------------
def delivery_settings(request: Request) -> dict:
    """Context for ``delivery/settings_section.html`` (called from the template)."""
    user = current_user(request)
    if user is None:
        return {}
    db: Database = get_db(request)
    with db.session() as session:
        verified = session.get(User, user.id).verified_email
        sub = subs.user_subscription(session, user.id)
        hooks = subs.webhooks_of(session, user.id)
        site_hooks = subs.webhooks_of(session, None) if user.is_admin else []
        history = subs.recent_deliveries(session, [h.id for h in hooks + site_hooks])
        token = subs.active_feed_token(session, user.id)
    by_id = {h.id: h for h in hooks + site_hooks}
    return {"subscription": sub, "webhooks": hooks, "site_webhooks": site_hooks, "feed_token": token,
            "history": [(d, by_id.get(d.webhook_id)) for d in history],
            "notice": NOTICES.get(request.query_params.get("delivery", "")), "account_email": verified}


templates.env.globals["delivery_settings"] = delivery_settings


def _back(notice: str) -> RedirectResponse:
    return RedirectResponse(f"/settings?delivery={notice}#delivery", status_code=303)


def _error(request: Request, message: str, status: int = 422) -> Response:
    title = "Invalid input" if status == 422 else "Mail server unreachable"
    return render(request, "error.html", status_code=status, status=status, title=title, message=message)


@router.post("/settings/digest", dependencies=[Depends(verify_csrf)])
def save_digest(request: Request, active: str = Form(""), frequency: str = Form("daily"), trending: str = Form(""),
                for_you: str = Form(""), categories: str = Form(""), keywords: str = Form(""), authors: str = Form(""),
                rising: str = Form(""), exclude_words: str = Form(""), exclude_authors: str = Form(""), exclude_categories: str = Form(""),
                user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    """Save the account's digest; only for its verified address, and a subscription of
    that address that is not the account's own changes only by the address's confirmation."""
    try:
        topics = subs.make_topics(trending=bool(trending), for_you=bool(for_you), categories=categories,
                                  keywords=keywords, authors=authors, rising=bool(rising))
        exclusions = subs.make_exclusions(words=exclude_words, authors=exclude_authors, categories=exclude_categories)
        with db.session() as session:
            fresh = session.get(User, user.id)
            if fresh.verified_email is None:
                return _back("verify-first")
            outcome = subs.save_user_subscription(session, user.id, fresh.verified_email, frequency=frequency,
                                                  topics=topics, exclusions=exclusions, active=bool(active))
            if outcome.change is None:
                return _back("saved")
            limited = mail_change_confirmation(session, outcome.change, fresh.verified_email, fresh)
    except subs.DeliveryError as exc:
        return _error(request, str(exc))
    except MailError:
        return _error(request, MAIL_DOWN, 503)
    return _back("change-pending" if limited else "change-sent")


@router.get("/subscribe/change/{token}", response_class=HTMLResponse)
def change_page(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    """What an account asks to change; only the button's POST changes anything."""
    change_id, email = signed_link_or_400(read_change_token, token)
    with db.session() as session:
        found = subs.pending_change(session, change_id, email)
        if found is None:
            raise HTTPException(404, "This change was already applied or replaced; nothing to confirm.")
        change, _ = found
        owner = session.get(User, change.user_id)
        settings, username = dict(change.settings), owner.username if owner else "?"
    return render(request, "delivery/change.html", token=token, email=email, settings=settings, username=username,
                  done=False)


@router.post("/subscribe/change/{token}", dependencies=[Depends(verify_csrf)])
def apply_change(request: Request, token: str, db: Database = Depends(get_db)) -> Response:
    change_id, email = signed_link_or_400(read_change_token, token)
    try:
        with db.session() as session:
            sub = subs.apply_change(session, change_id, email)
            settings = {"frequency": sub.frequency, "topics": sub.topics, "exclusions": sub.exclusions,
                        "active": sub.active}
    except subs.DeliveryError as exc:
        raise HTTPException(400, str(exc)) from exc
    return render(request, "delivery/change.html", token=token, email=email, settings=settings, username="",
                  done=True)


@router.post("/settings/feed-token", dependencies=[Depends(verify_csrf)])
def new_feed_token(request: Request, user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        token = subs.issue_feed_token(session, user.id)
    urls = private_feed_urls(str(request.base_url).rstrip("/"), token)
    return render(request, "delivery/feed_token.html", urls=urls["user"], for_you_urls=urls["for-you"])


@router.post("/settings/feed-token/revoke", dependencies=[Depends(verify_csrf)])
def revoke_feed_token(user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    with db.session() as session:
        subs.revoke_feed_tokens(session, user.id)
    return _back("revoked")


@router.post("/settings/webhooks", dependencies=[Depends(verify_csrf)])
def add_webhook(request: Request, url: str = Form(""), format: str = Form("generic"), frequency: str = Form("daily"),
                site_wide: str = Form(""), user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    if site_wide and not user.is_admin:
        raise HTTPException(403, "Only administrators can add site-wide webhooks.")
    try:
        with db.session() as session:
            subs.add_webhook(session, None if site_wide else user.id, url, format=format, frequency=frequency)
    except subs.DeliveryError as exc:
        return _error(request, str(exc))
    return _back("hook-added")


def _owned_hook(db: Database, user: User, webhook_id: int) -> Webhook:
    with db.session() as session:
        hook = session.get(Webhook, webhook_id)
    if hook is None or not (hook.user_id == user.id or (hook.user_id is None and user.is_admin)):
        raise HTTPException(404, "No such webhook.")
    return hook


@router.post("/settings/webhooks/{webhook_id}/delete", dependencies=[Depends(verify_csrf)])
def delete_webhook(webhook_id: int, user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    hook = _owned_hook(db, user, webhook_id)
    with db.session() as session:
        subs.delete_webhook(session, hook.id, hook.user_id)
    return _back("hook-deleted")


@router.post("/settings/webhooks/{webhook_id}/test", dependencies=[Depends(verify_csrf)])
def test_webhook(webhook_id: int, user: User = Depends(require_user), db: Database = Depends(get_db)) -> Response:
    hook = _owned_hook(db, user, webhook_id)
    result = send_test(db, hook.id)
    return _back("hook-ok" if result.ok else "hook-failed")
