"""A live server with its own database for the browser tests, and Chromium launched from Debian."""

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask_migrate import upgrade
from werkzeug.serving import make_server

from backend import create_app
from backend.extensions import db
from backend.services.checklists import load_templates
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


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("live")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'live.db'}",
        "INSTANCE_DIR": str(instance),
        "STORAGE_BACKEND": "local",
        "STORAGE_LOCAL_ROOT": str(instance / "photos"),
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    })
    with app.app_context():
        upgrade()
        load_templates(db.session)
        world = factories.world(db.session)
        factories.case(db.session, world.households[world.village_a1], status="in_progress")
        for obj in [*world.households.values(), *world.users.values()]:
            db.session.refresh(obj)  # loaded now, so the tests can read them detached
        db.session.expunge_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, world)
    server.shutdown()
    thread.join(5)


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
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield ShellServer(f"http://127.0.0.1:{server.server_port}", app, static)
    server.shutdown()
    thread.join(5)
    with app.app_context():
        db.engine.dispose()  # close its pooled connections before the interpreter collects them


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


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
