"""The library page: collections and their papers, import, export, and the
followed terms and exclusions that steer recommendations."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from paperwire.deliver.export import FORMATS
from paperwire.sources.library_file import LibraryFileError, MAX_BYTES, import_library
from paperwire.store.community import voted_ids
from paperwire.store.db import Database
from paperwire.store.library import (
    EXCLUSION_KINDS, FOLLOW_KINDS, LibraryError, add_exclusion, collection_papers, create_collection,
    default_collection, delete_collection, exclusions, follow, follows, get_collection, list_collections,
    remove_exclusion, unfollow,
)
from paperwire.web.api_foryou import export_response
from paperwire.web.deps import get_db, render, require_user, verify_csrf
from paperwire.web.presenters import invalidate

router = APIRouter(include_in_schema=False)
MESSAGES = {
    "created": "Collection created.", "deleted": "Collection deleted.", "followed": "Followed.",
    "unfollowed": "No longer followed.", "excluded": "Exclusion added: matching papers are hidden for you.",
    "included": "Exclusion removed.",
}


def _page(request: Request, db: Database, user, collection_id: int | None, status_code: int = 200, **extra) -> Response:
    with db.session() as session:
        collections = list_collections(session, user.id)
        current = get_collection(session, user.id, collection_id) if collection_id else default_collection(session, user.id)
        if current is None:
            raise HTTPException(404, "No such collection.")
        papers = collection_papers(session, current.id, limit=500)
        voted = voted_ids(session, user, [p.id for p in papers])
        ctx = {
            "collections": collections, "current": current, "papers": papers, "voted": voted,
            "saved_ids": {p.id for p in papers}, "follows": follows(session, user.id),
            "exclusions": exclusions(session, user.id), "follow_kinds": FOLLOW_KINDS,
            "exclusion_kinds": EXCLUSION_KINDS, "formats": FORMATS, "error": None, "report": None,
            "notice": MESSAGES.get(request.query_params.get("done", "")),
        }
    ctx.update(extra)
    return render(request, "library.html", status_code=status_code, **ctx)


@router.get("/library", response_class=HTMLResponse)
def library_page(request: Request, c: int | None = Query(None), user=Depends(require_user),
                 db: Database = Depends(get_db)) -> Response:
    return _page(request, db, user, c)


@router.get("/library/export")
def library_export(format: str = Query("bibtex"), c: int | None = Query(None), user=Depends(require_user),
                   db: Database = Depends(get_db)) -> Response:
    return export_response(db, user, format, c)


@router.post("/library/collections", dependencies=[Depends(verify_csrf)])
def new_collection(request: Request, name: str = Form(""), user=Depends(require_user),
                   db: Database = Depends(get_db)) -> Response:
    try:
        with db.session() as session:
            row = create_collection(session, user.id, name)
    except LibraryError as exc:
        return _page(request, db, user, None, 422, error=str(exc))
    return RedirectResponse(f"/library?c={row.id}&done=created", status_code=303)


@router.post("/library/collections/{collection_id}/delete", dependencies=[Depends(verify_csrf)])
def remove_collection(request: Request, collection_id: int, user=Depends(require_user),
                      db: Database = Depends(get_db)) -> Response:
    try:
        with db.session() as session:
            if not delete_collection(session, user.id, collection_id):
                raise HTTPException(404, "No such collection.")
    except LibraryError as exc:
        return _page(request, db, user, collection_id, 422, error=str(exc))
    return RedirectResponse("/library?done=deleted", status_code=303)


@router.post("/library/import", dependencies=[Depends(verify_csrf)])
def import_file(request: Request, file: UploadFile = File(...), c: int | None = Form(None),
                user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    # A plain def: FastAPI runs it in the threadpool, so parsing and matching a
    # 5,000-entry file does not stop the event loop (and every other request).
    file.file.seek(0)
    data = file.file.read(MAX_BYTES + 1)
    try:
        with db.session() as session:
            report = import_library(session, user.id, data, filename=file.filename or "", collection_id=c)
    except (LibraryFileError, LibraryError) as exc:
        return _page(request, db, user, c, 422, error=f"Could not import {file.filename or 'the file'}: {exc}")
    invalidate(request)
    return _page(request, db, user, c, report=report.summary())


def _rule(request: Request, db: Database, user, table: str, kind: str, value: str, remove: bool) -> Response:
    adders = {"follows": (follow, unfollow, "followed", "unfollowed"),
              "exclusions": (add_exclusion, remove_exclusion, "excluded", "included")}
    add, drop, added, dropped = adders[table]
    try:
        with db.session() as session:
            (drop if remove else add)(session, user.id, kind, value)
    except LibraryError as exc:
        return _page(request, db, user, None, 422, error=str(exc))
    invalidate(request)
    return RedirectResponse(f"/library?done={dropped if remove else added}", status_code=303)


@router.post("/library/follows", dependencies=[Depends(verify_csrf)])
def add_follow(request: Request, kind: str = Form(...), value: str = Form(""), remove: bool = Form(False),
               user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    return _rule(request, db, user, "follows", kind, value, remove)


@router.post("/library/exclusions", dependencies=[Depends(verify_csrf)])
def add_excl(request: Request, kind: str = Form(...), value: str = Form(""), remove: bool = Form(False),
             user=Depends(require_user), db: Database = Depends(get_db)) -> Response:
    return _rule(request, db, user, "exclusions", kind, value, remove)
