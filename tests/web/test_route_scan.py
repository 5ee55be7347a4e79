"""Every route of the app, hit with hostile input, answers below 500.

The routes come from ``app.routes`` (so a new route is scanned without editing
this file). Each is called with every payload in its path parameters, its
query parameters and its form or JSON body, anonymously and as a logged-in
user (with a valid CSRF token, so bodies get past the check).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest

try:  # Starlette's TestClient uses httpx2 when it is installed (huggingface_hub 2 brings it)
    from httpx2 import InvalidURL as ClientInvalidURL
except ImportError:  # pragma: no cover
    from httpx import InvalidURL as ClientInvalidURL

from fastapi.params import Body, File, Form
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from paperwire.web.app import create_app
from paperwire.store.community import create_user, get_user, set_banned, start_session
from paperwire.web.security import SESSION_COOKIE
from tests.web.conftest import csrf_from

PAYLOADS = [
    "\x00", "a\x00b", "\x1b[31m\x07\x08", "A" * 10_000, "%", "%00", "'\"`", "<script>alert(1)</script>",
    "../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "\u202eé😀\ufeff", "-1", "99999999999999999999999", "0",
    "", " ", "1e309", "null",
]
JSON_BODIES = [
    None, [], {}, 1, -1, 2**70, "x", True, [[[[[[[[[[]]]]]]]]]], {"a": {"b": {"c": {"d": [1, {"e": None}]}}}},
    "\x00", "A" * 10_000,
]
#: Routes that end the scanning user's session; they are scanned, then the user logs in again.
SESSION_ENDING = ("logout", "delete", "password", "account")


@dataclass
class Params:
    path_params: list = field(default_factory=list)
    query_params: list = field(default_factory=list)
    body_params: list = field(default_factory=list)


def flat_params(dependant, into: Params | None = None) -> Params:
    """The parameters of a route and of all its dependencies (CSRF, user, ...)."""
    into = into or Params()
    into.path_params += dependant.path_params
    into.query_params += dependant.query_params
    into.body_params += dependant.body_params
    for sub in dependant.dependencies:
        flat_params(sub, into)
    return into


def scanned_routes(app) -> list[tuple[str, list[str], object]]:
    routes = []
    for route in app.routes:
        candidates = [route] if isinstance(route, APIRoute) else []
        if hasattr(route, "effective_candidates"):  # FastAPI's included routers
            candidates = route.effective_candidates()
        for candidate in candidates:
            methods = sorted(m for m in candidate.methods if m in ("GET", "POST", "PUT", "PATCH", "DELETE"))
            routes.append((candidate.path, methods, flat_params(candidate.dependant)))
    assert len(routes) > 30, "the route walk found too few routes"
    return routes


def _fill(path: str, dependant, value: str) -> str:
    for param in dependant.path_params:
        path = path.replace("{" + param.name + "}", quote(value, safe="") or "x")
        path = path.replace("{" + param.name + ":path}", quote(value, safe="/") or "x")
    return path


class Scanner:
    def __init__(self, client: TestClient, db, logged_in: bool):
        self.client = client
        self.db = db
        self.logged_in = logged_in
        self.token = ""
        self.failures: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        """(Re)start the scanning admin's session directly in the store: the scan's
        own bad logins trip the login rate limit, and a scanned route may log out."""
        if self.logged_in and self.client.get("/library", follow_redirects=False).status_code != 200:
            with self.db.session() as s:
                user = get_user(s, "scanner") or create_user(s, "scanner", "scanner-password", is_admin=True)
                set_banned(s, user, False)
                self.client.cookies.set(SESSION_COOKIE, start_session(s, user))
        self.token = csrf_from(self.client.get("/library" if self.logged_in else "/login").text)

    def call(self, method: str, url: str, **kwargs) -> None:
        try:
            response = self.client.request(method, url, follow_redirects=False, **kwargs)
        except (UnicodeEncodeError, ClientInvalidURL):
            return  # the client itself cannot send it (httpx2 caps a URL's query length)
        if response.status_code >= 500:
            self.failures.append(f"{method} {url[:120]!r} {str(kwargs)[:160]} -> {response.status_code}")

    def scan(self, path: str, methods: list[str], dependant) -> None:
        query = [p.name for p in dependant.query_params]
        body = dependant.body_params
        form_names = [p.alias or p.name for p in body if isinstance(p.field_info, (Form, File))]
        json_names = [p.alias or p.name for p in body if isinstance(p.field_info, Body) and not isinstance(p.field_info, Form)]
        files = [p.alias or p.name for p in body if isinstance(p.field_info, File)]
        for method in methods:
            for value in PAYLOADS:
                url = _fill(path, dependant, value)
                params = {name: value for name in query}
                if method == "GET":
                    self.call(method, url, params=params)
                    continue
                headers = {"X-CSRF-Token": self.token}
                data = {name: value for name in form_names if name not in files}
                data["csrf_token"] = self.token
                upload = {name: ("x.bib", value.encode("utf-8", "replace")) for name in files}
                self.call(method, url, params=params, data=data, files=upload or None, headers=headers)
            if method != "GET" and json_names:
                for value in JSON_BODIES:
                    payload = {name: value for name in json_names} if len(json_names) > 1 or not body[0].field_info.embed else {json_names[0]: value}
                    for sent in (payload, value):
                        self.call(method, _fill(path, dependant, "1"), content=json.dumps(sent),
                                  headers={"Content-Type": "application/json", "X-CSRF-Token": self.token})
        if any(word in path for word in SESSION_ENDING):
            self.refresh()


@pytest.mark.parametrize("who", ["anonymous", "user"])
def test_no_route_answers_500(site_db, who):
    app = create_app(site_db)
    with TestClient(app, raise_server_exceptions=False) as client:
        scanner = Scanner(client, site_db, logged_in=who == "user")
        for path, methods, dependant in scanned_routes(app):
            scanner.scan(path, methods, dependant)
    assert not scanner.failures, f"{len(scanner.failures)} server errors:\n" + "\n".join(scanner.failures[:60])
