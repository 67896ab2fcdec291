"""Accounts: users, password checks with throttling, and bearer tokens."""

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from backend.models import ApiToken, Region, User
from backend.models.base import utc_now
from backend.models.user import UserRegion
from backend.services import audit, policy, throttle
from backend.services.errors import (
    Conflict,
    InvalidCredentials,
    InvalidInput,
    OutsideScope,
    TokenExpired,
    TooManyAttempts,
    Unauthenticated,
)
from backend.services.policy import Actor, in_scope
from backend.services.throttle import Throttle
from backend.vocabulary import DEPARTMENTS, ROLES

# Checked against when the username is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


@dataclass(frozen=True)
class LoginPolicy:
    throttle: Throttle = Throttle()
    token_ttl: timedelta = timedelta(days=14)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(session, *, username, name, role, password, region_codes, phone=None,
                hash_method="scrypt", actor: Actor | None = None,
                department: str | None = None) -> User:
    """Create a user with a scope of one or more regions."""
    if role not in ROLES:
        raise InvalidInput(fields={"role": f"未知角色：{role}"})
    if problem := department_problem(role, department):
        raise InvalidInput(fields={"department": problem})
    if len(password) < 8:
        raise InvalidInput(fields={"password": "密码至少8位"})
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"用户名 {username} 已存在", fields={"username": "用户名已存在"})
    regions = session.scalars(select(Region).where(Region.code.in_(region_codes))).all()
    if not region_codes or len(regions) != len(set(region_codes)):
        raise InvalidInput(fields={"regions": "区划代码不存在"})
    user = User(username=username, name=name, role=role, phone=phone, regions=list(regions),
                department=department if role == "department" else None,
                password_hash=generate_password_hash(password, method=hash_method))
    session.add(user)
    session.flush()
    audit.record(session, actor, "create", "user", user.id,
                 {"username": username, "role": role, "regions": sorted(region_codes)})
    session.commit()
    return user


def login(session, username: str, password: str, *, remote_addr: str | None,
          policy: LoginPolicy) -> tuple[str, ApiToken]:
    """Check a password and issue a new bearer token; throttle failures (services/throttle.py)."""
    now = utc_now()
    attempt = throttle.Attempt.of(username, remote_addr)
    wait = throttle.count_attempt(session, attempt, policy.throttle, now)
    if wait is not None:
        raise TooManyAttempts(retry_after=wait)
    user = session.scalar(select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if not (valid and user and user.active):
        raise InvalidCredentials()
    throttle.forget_success(session, attempt, policy.throttle, now)
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
    # Every request asks: the user and their regions come in the token's own statement.
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token))
                          .options(joinedload(ApiToken.user).joinedload(User.regions))
                          ).unique().scalar_one_or_none()
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


# --- user management by a county administrator -------------------------------------------
USERNAME = re.compile(r"[A-Za-z0-9_.\-]{2,64}")
PHONE = re.compile(r"[0-9+\- ]{5,20}")
# No 0/O, 1/l/I: a password read aloud or copied from the screen by hand.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
OUTSIDE_AREA = "不能分配您管辖范围以外的区域"


@dataclass(frozen=True)
class UserFields:
    """What an administrator sets on a user besides the username and password."""

    name: str
    role: str
    region_codes: tuple[str, ...]
    phone: str | None = None
    department: str | None = None  # for the department role: which one (vocabulary.DEPARTMENTS)


def department_problem(role: str, department: str | None) -> str | None:
    if role == "department" and department not in DEPARTMENTS:
        return "部门核查员须选择所属部门"
    return None


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(12))


def list_users(session, actor: Actor) -> list[User]:
    """The users whose every region lies inside the administrator's area."""
    actor.require(policy.USER_MANAGE)
    touching = select(UserRegion.user_id).where(in_scope(actor, UserRegion.region_code))
    rows = session.scalars(select(User).where(User.id.in_(touching))
                           .order_by(User.active.desc(), User.username)).all()
    return [u for u in rows if _inside(actor, u)]


def managed_user(session, actor: Actor, user_id: int) -> User:
    """One user the administrator manages; OutsideScope (a 404) for anyone else."""
    actor.require(policy.USER_MANAGE)
    user = session.get(User, user_id) if 0 < user_id < 2**31 else None
    if user is None or not _inside(actor, user):
        raise OutsideScope()
    return user


def add_user(session, actor: Actor, username: str, fields: UserFields, *,
             password: str | None = None, hash_method: str = "scrypt") -> tuple[User, str]:
    """Create a user inside the administrator's area; return it and its initial password."""
    actor.require(policy.USER_MANAGE)
    problems = {}
    if not USERNAME.fullmatch(username):
        problems["username"] = "用户名为 2–64 位字母、数字、下划线、点或连字符"
    elif session.scalar(select(User.id).where(User.username == username)):
        problems["username"] = "用户名已存在"
    if password is not None and not 8 <= len(password) <= 128:
        problems["password"] = "密码至少8位（不超过128位）"
    _check_fields(session, actor, fields, problems)
    password = password or new_password()
    user = create_user(session, username=username, name=fields.name, role=fields.role,
                       password=password, region_codes=list(fields.region_codes),
                       phone=fields.phone, hash_method=hash_method, actor=actor,
                       department=fields.department)
    return user, password


def update_user(session, actor: Actor, user_id: int, fields: UserFields) -> User:
    """Change a user's name, phone, role and regions; the audit log keeps each change."""
    user = managed_user(session, actor, user_id)
    problems = {}
    if user.id == actor.user_id and fields.role != user.role:
        problems["role"] = "不能修改自己的角色"
    regions = _check_fields(session, actor, fields, problems)
    changes = audit.diff(user, {"name": fields.name, "phone": fields.phone, "role": fields.role,
                                "department": fields.department
                                if fields.role == "department" else None})
    before, after = sorted(r.code for r in user.regions), sorted(r.code for r in regions)
    if before != after:
        user.regions = list(regions)
        changes["regions"] = [before, after]
    if changes:
        audit.record(session, actor, "update", "user", user.id, changes)
    session.commit()
    return user


def set_active(session, actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate a user (every token of theirs stops working) or reactivate them."""
    user = managed_user(session, actor, user_id)
    if not active and user.id == actor.user_id:
        raise InvalidInput("不能停用自己的账号", fields={"active": "不能停用自己的账号"})
    if user.active != active:
        user.active = active
        revoked = 0 if active else revoke_tokens(session, user)
        audit.record(session, actor, "reactivate" if active else "deactivate", "user", user.id,
                     {} if active else {"revoked_tokens": revoked})
        session.commit()
    return user


def reset_password(session, actor: Actor, user_id: int, *, hash_method: str = "scrypt") -> str:
    """Give a user a new random password, log them out everywhere, and return it once."""
    user = managed_user(session, actor, user_id)
    if user.id == actor.user_id:
        raise InvalidInput("不能在此重置自己的密码", fields={"password": "不能重置自己的密码"})
    password = new_password()
    user.password_hash = generate_password_hash(password, method=hash_method)
    revoked = revoke_tokens(session, user)
    throttle.forget_account(session, user.username)
    audit.record(session, actor, "reset_password", "user", user.id, {"revoked_tokens": revoked})
    session.commit()
    return password


def revoke_tokens(session, user: User) -> int:
    """Revoke every live token of the user (not committed); return how many."""
    result = session.execute(update(ApiToken)
                             .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=utc_now()))
    return result.rowcount


def _check_fields(session, actor: Actor, fields: UserFields, problems: dict) -> list[Region]:
    """Add each bad field to `problems` and raise them all; return the chosen regions."""
    if not 1 <= len(fields.name) <= 64:
        problems["name"] = "请填写姓名（不超过64字）"
    if fields.role not in ROLES:
        problems["role"] = "请选择角色"
    if fields.phone is not None and not PHONE.fullmatch(fields.phone):
        problems["phone"] = "电话号码格式有误"
    if problem := department_problem(fields.role, fields.department):
        problems["department"] = problem
    codes = list(dict.fromkeys(fields.region_codes))
    regions = session.scalars(select(Region).where(Region.code.in_(codes))).all() if codes else []
    if not codes:
        problems["regions"] = "请至少选择一个负责区域"
    elif not all(actor.covers(code) for code in codes):
        problems["regions"] = OUTSIDE_AREA
    elif len(regions) != len(codes):
        problems["regions"] = "区划代码不存在"
    if problems:
        raise InvalidInput(fields=problems)
    return list(regions)


def _inside(actor: Actor, user: User) -> bool:
    return bool(user.regions) and all(actor.covers(r.code) for r in user.regions)
