"""The Flask application factory."""

import logging
import secrets

from flask import Flask

from backend.config import load_settings


def create_app(config: dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error handlers, commands."""
    app = Flask(__name__, instance_relative_config=False,
                template_folder="../frontend/templates", static_folder="../frontend/static")
    app.config.from_mapping(load_settings())
    if config:
        app.config.from_mapping(config)
    ensure_secret_key(app)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    return app


def ensure_secret_key(app: Flask) -> None:
    """Use SECRET_KEY from the environment, else one kept in the instance folder for this host."""
    if app.config.get("SECRET_KEY"):
        return
    from pathlib import Path

    path = Path(app.config["INSTANCE_DIR"]) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    app.config["SECRET_KEY"] = path.read_text().strip()


def configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from pathlib import Path

    from flask_smorest import Api

    from backend import models  # noqa: F401  (every table known to Alembic)
    from backend.api.openapi import init_api
    from backend.extensions import db, migrate
    from backend.responses import StrictJSONProvider
    from backend.rules import Rules
    from backend.storage import make_store

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(
            parents=True, exist_ok=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement after 5 runs and PostgreSQL then keeps a generic plan,
        # which scans every household for a name search (bench/households.py: 1 ms -> 30 ms):
        # never prepare, so each statement is planned for its values. (Not plan_cache_mode=
        # force_custom_plan: that also replans the foreign-key checks' own cached statements,
        # once per row, and made opening a 100,000-household round 3x slower.)
        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
    app.json = StrictJSONProvider(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent.parent / "migrations"))
    # One Api per app: the document is the app's own, so building another app (a test's, or
    # one whose settings are refused half-way) never empties this one's.
    app.extensions["api"] = init_api(Api(), app)
    app.extensions["object_store"] = make_store(app.config)
    app.extensions["rules"] = Rules.from_config(app.config)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from backend.db_sqlite import configure_sqlite

        with app.app_context():
            configure_sqlite(db.engine)


def register_blueprints(app: Flask) -> None:
    from backend.api import (
        archive,
        attachments,
        auth,
        cases,
        checklists,
        flags,
        households,
        money,
        photos,
        ranking,
        regions,
        reports,
        reviews,
        rounds,
        spot_checks,
        visits,
        workflow,
    )
    from backend.web import health, home
    from backend.web.converters import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added
    for module in (auth, regions, households, cases, workflow, money, reports, ranking,
                   attachments, photos, flags, checklists, visits, reviews, rounds, spot_checks,
                   archive):
        app.extensions["api"].register_blueprint(module.blp)
    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    from backend.web import app as app_shell
    from backend.web import desk

    app.register_blueprint(desk.blueprint())
    app.register_blueprint(app_shell.bp)


def register_error_handlers(app: Flask) -> None:
    from backend.api.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from backend.cli import register

    register(app)
