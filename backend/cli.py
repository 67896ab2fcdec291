"""Flask commands: create-user, import-households, import-outbox, seed-demo, storage-check."""

import json
from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from backend.extensions import db, object_store
from backend.models import User
from backend.models.base import utc_now
from backend.services import accounts, imports
from backend.services.errors import DomainError
from backend.services.policy import Actor
from backend.vocabulary import DEPARTMENTS, ROLES


def register(app) -> None:
    for command in (create_user, import_households, import_outbox, seed_demo, storage_check,
                    load_checklists, load_workflows):
        app.cli.add_command(command)


@click.command("load-checklists")
def load_checklists():
    """Store each checklist template file whose version is not in the database yet."""
    from backend.services.checklists.templates import TemplateVersionChanged, load_templates

    try:
        added = load_templates(db.session)
    except TemplateVersionChanged as error:
        raise click.ClickException(str(error)) from error
    click.echo("loaded: " + ", ".join(added) if added else "checklist templates up to date")


@click.command("load-workflows")
def load_workflows():
    """Store each county workflow file whose version is not in the database yet."""
    from backend.services.workflow.templates import WorkflowVersionChanged
    from backend.services.workflow.templates import load_workflows as load

    try:
        added = load(db.session)
    except WorkflowVersionChanged as error:
        raise click.ClickException(str(error)) from error
    click.echo("loaded: " + ", ".join(added) if added else "workflows up to date")


@click.command("create-user")
@click.argument("username")
@click.option("--name", required=True, help="显示的姓名")
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--region", "regions", multiple=True, required=True, help="12位区划代码，可多次给出")
@click.option("--department", type=click.Choice(list(DEPARTMENTS)),
              help="部门核查员的所属部门")
@click.option("--phone")
@click.password_option()
def create_user(username, name, role, regions, department, phone, password):
    """Create a user with a role and one or more regions."""
    try:
        accounts.create_user(db.session, username=username, name=name, role=role,
                             password=password, region_codes=list(regions), phone=phone,
                             hash_method=current_app.config["PASSWORD_HASH_METHOD"],
                             department=department)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields}") from error
    click.echo(f"created {role} {username}")


@click.command("import-households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "username", required=True, help="导入人（县级管理员）的用户名")
def import_households(file, username):
    """Import households from a CSV or XLSX file, reporting rejected rows."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    try:
        with file.open("rb") as stream:
            report = imports.import_households(db.session, Actor.of(user), file.name, stream,
                                               max_rows=1_000_000)
    except DomainError as error:
        raise click.ClickException(f"{error.message} {error.fields}") from error
    click.echo(f"{report['created']} of {report['total']} rows imported, "
               f"{report['rejected']} rejected")
    for problem in report["errors"]:
        click.echo(json.dumps(problem, ensure_ascii=False))


@click.command("import-outbox")
@click.argument("file", type=click.File("rb"))
@click.option("--as-user", "username", help="记录这些内容的检查员（默认取导出文件中的用户）")
def import_outbox(file, username):
    """Upload a phone's exported outbox file (待上传数据) as that inspector; safe to repeat."""
    from backend.outbox_import import read_export, replay

    try:
        items, exported_by = read_export(json.load(file))
    except ValueError as error:  # bad JSON, or NotAnExport
        raise click.ClickException("不是手机导出的待上传数据文件") from error
    username = username or exported_by
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    if user is None or not user.active:
        raise click.ClickException(f"no such active user: {username}（请用 --as-user 指定）")
    # A token of a few minutes for this import alone, revoked when it ends.
    token, row = accounts.issue_token(db.session, user, timedelta(minutes=30))
    db.session.commit()
    try:
        report = replay(current_app.test_client(), token, items)
    finally:
        db.session.merge(row).revoked_at = utc_now()
        db.session.commit()
    for r in report.results:
        click.echo(f"{r.status or '—'} {r.kind} {r.id}: {r.message}")
    click.echo(f"{len(report.results) - len(report.failed)} of {len(report.results)} items "
               f"stored, {len(report.failed)} refused")
    if report.failed:
        raise SystemExit(1)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="只在数据库为空时生成演示数据")
# The demo's procedure examples need a few free households in each village: 60 at least.
@click.option("--households", default=300, show_default=True, type=click.IntRange(60, 100_000))
def seed_demo(if_empty, households):
    """Create a demo county: 2 towns, 6 villages, households, cases and one user per role."""
    from backend.demo import seed

    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("database already has data; demo not seeded")
        return
    logins = seed(db.session, households=households,
                  hash_method=current_app.config["PASSWORD_HASH_METHOD"], store=object_store())
    path = Path(current_app.config["INSTANCE_DIR"]) / "demo_logins.txt"
    path.parent.mkdir(parents=True, exist_ok=True)  # absent on PostgreSQL with a SECRET_KEY
    lines = [f"{role:14s} {username:12s} {password}" for role, username, password in logins]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    click.echo("demo county seeded; logins (also kept in instance/demo_logins.txt):")
    click.echo("\n".join("  " + line for line in lines))


@click.command("storage-check")
@click.option("--delete-orphans", is_flag=True,
              help="Delete objects without a row once older than --grace-hours.")
@click.option("--grace-hours", type=click.FloatRange(min=0, max=87_600), default=24.0,
              show_default=True, help="Leave orphans written more recently than this.")
def storage_check(delete_orphans: bool, grace_hours: float):
    """List stored objects that no row refers to, and rows whose object is missing; with
    --delete-orphans, take back the orphans (a crash between object and row, a lost race)."""
    from backend.services.photos.storage_check import check_storage, sweep_orphans

    store = object_store()
    report = check_storage(db.session, store)
    # Bytes the sweep deletes are kept here first, in a folder per run, until known safe.
    recovery = Path(current_app.config["INSTANCE_DIR"]) / "sweep-recovery"
    sweep = sweep_orphans(db.session, store, older_than=timedelta(hours=grace_hours),
                          recovery=recovery, report=report) if delete_orphans else None
    deleted = set(sweep.deleted) if sweep else set()
    for key in report.orphan_objects:
        click.echo(f"{'deleted' if key in deleted else 'object without row'}: {key}")
    for row, key in report.missing_objects:
        click.echo(f"row without object: {row} -> {key}")
    click.echo(f"{report.objects} objects, {report.rows} rows checked; "
               f"{len(report.orphan_objects)} orphan objects ({len(deleted)} deleted), "
               f"{len(report.missing_objects)} missing objects")
    if sweep and sweep.failed:
        click.echo(f"could not sweep {len(sweep.failed)} objects (store or database "
                   f"unavailable, or the recovery folder unwritable); any bytes a photo may hold "
                   f"were kept in {sweep.kept_in}")
    if report.missing_objects or (sweep and sweep.failed):
        raise SystemExit(1)
