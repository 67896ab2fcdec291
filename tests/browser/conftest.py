"""Live servers with their own databases for the browser tests, and Chromium from Debian."""

import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from backend import create_app
from backend.extensions import db
from backend.services.checklists.templates import load_templates
from backend.services.workflow.templates import load_workflows
from tests import factories

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-sandbox"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
HOUSE = {"latitude": 39.5203, "longitude": 112.8101, "accuracy": 12}


@dataclass
class LiveServer:
    url: str
    app: object
    world: factories.World


def browser_app(instance: Path, **config):
    """An app on its own SQLite file and photo folder in `instance`, its tables migrated."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'live.db'}",
        "INSTANCE_DIR": str(instance),
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(instance / "photos"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **config,
    })
    with app.app_context():
        upgrade()
        load_templates(db.session)
        load_workflows(db.session)
    return app


_bodies = threading.local()


class _ClosingHandler(WSGIRequestHandler):
    """Werkzeug's server closes a response body in a `finally` that first drains the request;
    when the browser resets the connection (a page left mid-download), that drain raises and the
    body is never closed, so a sent photo's file stays open (a ResourceWarning, an error here).
    Close whatever the app returned on this request's thread once the request is over."""

    def run_wsgi(self):
        _bodies.open = []
        try:
            super().run_wsgi()
        finally:
            for body in _bodies.open:
                if hasattr(body, "close"):
                    body.close()


def _remember_bodies(app):
    def wsgi(environ, start_response):
        body = app(environ, start_response)
        getattr(_bodies, "open", []).append(body)
        return body
    return wsgi


@contextmanager
def serving(app):
    """Serve the app from a thread on a free loopback port; yield its URL."""
    server = make_server("127.0.0.1", 0, _remember_bodies(app), threaded=True,
                         request_handler=_ClosingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        with app.app_context():
            db.engine.dispose()  # close its pooled connections before the interpreter does


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    app = browser_app(tmp_path_factory.mktemp("live"))
    with app.app_context():
        world = factories.world(db.session)
        factories.case(db.session, world.households[world.village_a1], status="in_progress")
        for obj in [*world.households.values(), *world.users.values()]:
            db.session.refresh(obj)  # loaded now, so the tests can read them detached
        db.session.expunge_all()
    with serving(app) as url:
        yield LiveServer(url, app, world)


@dataclass
class ShellServer:
    url: str
    app: object
    static: Path  # the app's own copy of frontend/static: edit it to ship a new shell version


@pytest.fixture
def shell_server(live_server, tmp_path):
    """A second live server on live_server's database that serves a copy of the static folder.

    It has its own origin, so its service worker and caches are its own; a test changes a file
    under `static/app/` to make the server offer a new version of the shell.
    """
    static = tmp_path / "static"
    shutil.copytree(live_server.app.static_folder, static)
    keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "INSTANCE_DIR", "STORAGE_BACKEND",
            "STORAGE_LOCAL_ROOT", "PASSWORD_HASH_METHOD")
    app = create_app({key: live_server.app.config[key] for key in keys})
    app.static_folder = str(static)  # Flask's static route and the shell's hash both follow it
    with serving(app) as url:
        yield ShellServer(url, app, static)


@pytest.fixture(scope="session")
def playwright_instance():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def launch(playwright_instance, tmp_path):
    """Open (and reopen) a persistent Chromium profile like a phone: 360×800, zh-CN, geolocation."""
    contexts = []

    def open_context(profile: str = "phone", **overrides):
        options = dict(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, locale="zh-CN",
            timezone_id="Asia/Shanghai", viewport={"width": 360, "height": 800},
            device_scale_factor=1, is_mobile=True, has_touch=True, geolocation=HOUSE,
            permissions=["geolocation"], service_workers="allow")
        options.update(overrides)
        context = playwright_instance.chromium.launch_persistent_context(
            str(tmp_path / profile), **options)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        try:
            context.close()
        except Exception:  # already closed by the test
            pass


@pytest.fixture(scope="module")
def chromium(playwright_instance):
    """A plain (not persistent) Chromium, for the desk pages."""
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def page_for(chromium):
    """A new page in its own context at the given size; page.errors collects script errors."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = chromium.new_context(locale="zh-CN", viewport={"width": width,
                                                                 "height": height})
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str, *, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def sign_in(page, url, username):
    """Log in to the desk as `username` (the factories' password), from a clean session."""
    page.context.clear_cookies()
    page.goto(f"{url}/review/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def no_sideways_scroll(page):
    """Only wide tables may scroll sideways inside their own box, never the page."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width
