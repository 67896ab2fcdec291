"""Accounts: users, password checks with throttling, and bearer tokens."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from backend.models import ApiToken, LoginAttempt, Region, User
from backend.models.base import utc_now
from backend.services import audit
from backend.services.errors import (
    Conflict,
    InvalidCredentials,
    InvalidInput,
    TokenExpired,
    TooManyAttempts,
    Unauthenticated,
)
from backend.services.policy import Actor
from backend.vocabulary import ROLES

# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)
    token_ttl: timedelta = timedelta(days=14)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session, *, username, name, role, password, region_codes, phone=None,
                hash_method="scrypt", actor: Actor | None = None) -> User:
    """Create a user with a scope of one or more regions."""
    if role not in ROLES:
        raise InvalidInput(fields={"role": f"未知角色：{role}"})
    if len(password) < 8:
        raise InvalidInput(fields={"password": "密码至少8位"})
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名 {username} 已存在", fields={"username": "用户名已存在"})
    regions = session.scalars(select(Region).where(Region.code.in_(region_codes))).all()
    if not region_codes or len(regions) != len(set(region_codes)):
        raise InvalidInput(fields={"regions": "区划代码不存在"})
    user = User(username=username, name=name, role=role, phone=phone, regions=list(regions),
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id,
                 {"username": username, "role": role, "regions": sorted(region_codes)})
    session.commit()
    return user


def login(session, username: str, password: str, *, remote_addr: str | None,
          policy: LoginPolicy) -> tuple[str, ApiToken]:
    """Check a password and issue a new bearer token; throttle repeated failures per username."""
    now = utc_now()
    since = now - policy.lockout
    failures = session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == username, LoginAttempt.at >= since)
    )
    if failures >= policy.max_failures:
        raise TooManyAttempts(retry_after=int(policy.lockout.total_seconds()))
    user = session.scalar(select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if not (valid and user and user.active):
        session.add(LoginAttempt(username=username, remote_addr=remote_addr, at=now))
        session.commit()
        raise InvalidCredentials()
    session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    token, row = issue_token(session, user, policy.token_ttl)
    audit.record(session, Actor.of(user), "login", "user", user.id, {"remote_addr": remote_addr})
    session.commit()
    return token, row


def issue_token(session, user: User, ttl: timedelta) -> tuple[str, ApiToken]:
    """Add a new bearer token for the user (not committed); only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    row = ApiToken(user=user, token_hash=hash_token(token), created_at=now, expires_at=now + ttl)
    session.add(row)
    return token, row


def authenticate(session, token: str) -> User:
    """Return the user a bearer token belongs to, or raise why it is not accepted."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        raise Unauthenticated("登录已失效，请重新登录")
    if row.expires_at <= utc_now():
        raise TokenExpired()
    return row.user


def logout(session, token: str) -> None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utc_now()
        audit.record(session, Actor.of(row.user), "logout", "user", row.user_id)
        session.commit()


def users_by_id(session, ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
