"""Exhibitor's web UI at `/exhibitor/v1/ui/index.html`: one page, one script, one stylesheet.

The files ship in the package (`exhibitor/static`, package data) and only they are served: no CDN,
no directory listing, no path from the request reaches the filesystem. The page shows the
ensemble (`cluster/status`, refreshed) and a znode browser (`explorer/node`, `explorer/node-data`);
its script puts every value from the API into the page as text, and the Content-Security-Policy
allows only these files, so a znode named `<img onerror=…>` stays a name.
"""

from __future__ import annotations

from importlib import resources

from flask import Blueprint, Response, redirect
from werkzeug.wrappers import Response as BaseResponse

from daemons.kit.errors import NotFound

bp = Blueprint("exhibitor_ui", __name__)
INDEX = "/exhibitor/v1/ui/index.html"
FILES = {
    "index.html": "text/html; charset=utf-8",
    "exhibitor.js": "text/javascript; charset=utf-8",
    "exhibitor.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@bp.get("/")
@bp.get("/exhibitor/v1/ui/")
def to_index() -> BaseResponse:
    return redirect(INDEX, 302)


@bp.get("/exhibitor/v1/ui/<name>")
def ui_file(name: str) -> Response:
    mimetype = FILES.get(name)
    if mimetype is None:
        raise NotFound(f"no UI file {name!r}")
    body = resources.files("exhibitor").joinpath("static", name).read_bytes()
    return Response(body, 200, HEADERS, content_type=mimetype)
