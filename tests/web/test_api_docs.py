"""/docs and /redoc work offline and under the site's CSP: every script and
stylesheet is a vendored static file, nothing inline, nothing from a CDN."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("path, bundle", [("/docs", "/static/vendor/swagger-ui/swagger-ui-bundle.js"),
                                          ("/redoc", "/static/vendor/redoc/redoc.standalone.js")])
def test_docs_pages_use_only_local_files(client, path, bundle):
    r = client.get(path)
    assert r.status_code == 200
    assert "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert bundle in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "the page loads something from the network"
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts are blocked by the CSP"
    assert 'data-openapi-url="/openapi.json"' in html
    for asset in re.findall(r"""(?:src|href)=["'](/static/[^"']+)""", html):
        assert client.get(asset).status_code == 200, asset


def test_vendored_bundles_fetch_nothing_from_the_network(client):
    redoc = client.get("/static/vendor/redoc/redoc.standalone.js").text
    assert "cdn.redoc.ly/redoc/logo-mini.svg" not in redoc
    assert client.get("/static/vendor/redoc/logo-mini.svg").status_code == 200


def test_favicon(client):
    assert client.get("/favicon.ico").headers["content-type"].startswith("image/svg+xml")
    assert 'rel="icon"' in client.get("/").text
