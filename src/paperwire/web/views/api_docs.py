"""The API documentation pages, served from vendored files so they work offline.

FastAPI's own ``/docs`` loads Swagger UI from a CDN and starts it with an
inline script; both break on an offline install and under the site's
``script-src 'self'`` policy. These pages load ``static/vendor/swagger-ui``
and ``static/vendor/redoc`` and start them from static init scripts that
read the schema address from a ``data-`` attribute.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.web.deps import render

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_page(request: Request) -> Response:
    """Interactive API reference (try requests in the browser)."""
    return render(request, "docs/swagger.html", openapi_url=request.app.openapi_url)


@router.get("/redoc", response_class=HTMLResponse)
def redoc_page(request: Request) -> Response:
    """Readable, one-page API reference."""
    return render(request, "docs/redoc.html", openapi_url=request.app.openapi_url)
