"""The submit page: feature a paper today by arXiv id or URL."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.store.community import User
from paperwire.store.db import Database
from paperwire.web.deps import get_db, render, require_user, verify_csrf
from paperwire.web.presenters import invalidate
from paperwire.web.submission import SubmitError, submit_paper

router = APIRouter(include_in_schema=False)


@router.get("/submit", response_class=HTMLResponse)
def submit_form(request: Request, user: User = Depends(require_user)) -> Response:
    return render(request, "submit.html", error=None, value="")


@router.post("/submit", dependencies=[Depends(verify_csrf)])
def submit(
    request: Request, arxiv: str = Form(""), user: User = Depends(require_user), db: Database = Depends(get_db),
) -> Response:
    try:
        result = submit_paper(db, user, arxiv)
    except SubmitError as exc:
        response = render(request, "submit.html", status_code=exc.status, error=exc.message, value=arxiv)
        response.headers.update(exc.headers or {})
        return response
    invalidate(request)
    msg = "submitted" if result.created else "already"
    return RedirectResponse(f"/papers/{result.paper.uid}?msg={msg}", status_code=303)
