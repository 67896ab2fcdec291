"""The inspector PWA shell: the page at /app/, its service worker and its manifest.

The service worker is served from /app/sw.js so that its scope is /app/. Its cache name carries a
hash of every shell asset, so any change to a file under static/app installs a new version and the
old cache is deleted on activation.
"""

import hashlib
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template

bp = Blueprint("app_shell", __name__)
SHELL_SUFFIXES = {".js", ".css", ".png", ".svg", ".webmanifest"}


def static_root() -> Path:
    return Path(current_app.static_folder) / "app"


@cache
def _shell(root: str) -> tuple[str, tuple[str, ...]]:
    base = Path(root)
    files = sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in SHELL_SUFFIXES
                   and p.name != "sw.js")
    digest = hashlib.sha256()
    page = Path(current_app.root_path, current_app.template_folder, "app.html")
    for path in [*files, base / "sw.js", page]:
        digest.update(path.read_bytes())
    urls = tuple(f"/static/app/{p.relative_to(base).as_posix()}" for p in files)
    return digest.hexdigest()[:12], urls


def shell() -> tuple[str, tuple[str, ...]]:
    """Return the shell's version and the URLs the service worker precaches."""
    if current_app.debug or current_app.testing:
        _shell.cache_clear()
    return _shell(str(static_root()))


@bp.get("/app")
def app_redirect():
    return redirect("/app/", code=301)


@bp.get("/app/")
def index():
    version, _ = shell()
    response = Response(render_template("app.html", version=version))
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/app/sw.js")
def service_worker():
    version, urls = shell()
    source = (static_root() / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", version).replace(
        '"__ASSETS__"', json.dumps(["/app/", "/app/manifest.webmanifest", *urls]))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.get("/app/manifest.webmanifest")
def manifest():
    body = (static_root() / "manifest.webmanifest").read_bytes()
    response = Response(body, mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
