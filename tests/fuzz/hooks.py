"""Schemathesis hooks: logging out revokes the token it is sent with, so that operation gets a
fresh token of the same user each time and the run's own token stays valid.

The token is issued in the fuzz database directly, as the test worlds issue theirs, not by
logging in: the fuzzing of POST /auth/login itself sends wrong passwords from 127.0.0.1, and
once the login throttle refuses that source (429, as it should) a login here would fail too."""

import functools
import os

import schemathesis


@functools.cache
def _app():
    from backend import create_app  # the fuzz server's settings, from the same environment

    return create_app()


def issue_token(username: str) -> str:
    from sqlalchemy import select

    from backend.extensions import db
    from backend.models import User
    from tests.factories import token_for

    with _app().app_context():
        return token_for(db.session, db.session.scalars(
            select(User).where(User.username == username)).one())


@schemathesis.auth(refresh_interval=None).apply_to(path="/api/v1/auth/logout")
class FreshToken:
    def get(self, case, ctx):
        return issue_token(os.environ["FUZZ_USERNAME"])

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
