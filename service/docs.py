"""Swagger UI served from the app itself, so `/docs` works on a machine without internet.

FastAPI's default `/docs` page loads Swagger UI's JS and CSS from a CDN; offline it is blank. Here
the files come from the `swagger-ui-bundle` package (the swagger-ui dist files) and are served under
`/docs/static/`. Build the app with `docs_url=None, redoc_url=None` and call `install_docs(app)`.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

DOCS_URL = "/docs"
STATIC_URL = "/docs/static"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"


def install_docs(app: FastAPI) -> None:
    """Serve Swagger UI at `/docs` with its assets under `/docs/static/` from the package's files.
    The app must have been built with `docs_url=None` (FastAPI's own page would shadow this one)."""
    if app.docs_url is not None:
        raise ValueError("build the app with docs_url=None: install_docs serves /docs")
    directory = Path(str(swagger_ui_path))
    app.mount(STATIC_URL, StaticFiles(directory=directory), name="docs-static")
    openapi_url = app.openapi_url or "/openapi.json"
    title = f"{app.title} - docs"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=title,
            swagger_js_url=f"{STATIC_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC_URL}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC_URL}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
