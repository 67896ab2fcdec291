"""Alembic environment: the app's engine and metadata, batch mode so SQLite can alter tables."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from backend.models.search import compared_by_autogenerate

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option("sqlalchemy.url",
                       db.engine.url.render_as_string(hide_password=False).replace("%", "%%"))


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"),
                      target_metadata=db.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table by copying and dropping it; with foreign keys enforced
            # the drop fails once other tables hold rows that point at it (SQLite's own advice:
            # turn them off around such a change). It must be set outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(connection=connection, target_metadata=db.metadata,
                          process_revision_directives=skip_empty, render_as_batch=True,
                          compare_type=True, include_name=compared_by_autogenerate)
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "sqlite":
            if dangling := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
                raise RuntimeError(f"rows point at rows that do not exist: {dangling[:5]}")
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # the pool keeps it


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
