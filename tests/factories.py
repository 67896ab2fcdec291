"""Small factories for test data; each returns the saved object."""

import hashlib
import itertools
import random
from dataclasses import dataclass, field
from datetime import date

from werkzeug.security import generate_password_hash

from backend.models import Appraisal, Case, Household, Region, User
from backend.rules import current_rules
from backend.services import accounts
from backend.services.ids import check_char
from backend.services.workflow.engine import place_at
from backend.storage.keys import original_key

PASSWORD = "correct-horse-9"
_seq = itertools.count(1)


def id_number(seed: int | None = None, *, born: str = "19620315") -> str:
    """Return a valid 18-digit ID number, distinct per call."""
    n = next(_seq) if seed is None else seed
    body = f"140621{born}{n % 1000:03d}"
    if seed is None and n >= 1000:
        body = f"1406{n // 1000 % 100:02d}{born}{n % 1000:03d}"
    return body + check_char(body)


def region(session, code: str, name: str, level: str, parent: str | None = None) -> Region:
    r = Region(code=code, name=name, level=level, parent_code=parent)
    session.add(r)
    session.flush()
    return r


def user(session, role: str, regions: list[str], *, username: str | None = None) -> User:
    u = User(username=username or f"{role}{next(_seq)}", name="测试用户", role=role,
             password_hash=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"),
             regions=[session.get(Region, code) for code in regions],
             department="civil_affairs" if role == "department" else None)
    session.add(u)
    session.commit()
    return u


def token_for(session, u: User) -> str:
    """A bearer token for the user, as a login issues it. Not through `accounts.login`: its
    throttle counters and audit row cost a test a fifth of a second on PostgreSQL for every
    world; logging in itself is tested through the API (tests/api/test_auth.py and others)."""
    token, _ = accounts.issue_token(session, u, accounts.LoginPolicy().token_ttl)
    session.commit()
    return token


def household(session, village_code: str, **values) -> Household:
    number = values.pop("id_number", None) or id_number()
    values.setdefault("family_size", 3)  # the policy rules' per-person areas need it
    h = Household(village_code=village_code, name=values.pop("name", "王建国"),
                  id_number=number, id_tail=number[-4:],
                  category=values.pop("category", "dibao"), **values)
    session.add(h)
    session.commit()
    return h


def case(session, h: Household, *, grade="D", method="拆除重建", status="planned",
         year=2026) -> Case:
    a = Appraisal(household_id=h.id, grade=grade, appraised_on=date(2026, 3, 1),
                  appraiser="鉴定站")
    session.add(a)
    session.flush()
    c = Case(household_id=h.id, village_code=h.village_code, year=year, method=method,
             build_mode="自建", status=status, appraisal_id=a.id)
    session.add(c)
    session.flush()
    place_at(session, c, status, date(2026, 3, 10), photo_rules=current_rules().photos)
    session.commit()
    session.expire(h)
    return c


@dataclass
class World:
    """A county with two towns of two villages each; users of every role in town A."""

    county: str = "140621000000"
    town_a: str = "140621100000"
    town_b: str = "140621101000"
    village_a1: str = "140621100201"
    village_a2: str = "140621100202"
    village_b1: str = "140621101201"
    village_b2: str = "140621101202"
    users: dict = field(default_factory=dict)  # role -> User (scoped to town A, or county)
    tokens: dict = field(default_factory=dict)
    households: dict = field(default_factory=dict)  # village code -> Household

    def headers(self, role: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def world(session) -> World:
    w = World()
    region(session, "140000000000", "山西省", "province")
    region(session, "140600000000", "朔州市", "prefecture", "140000000000")
    region(session, w.county, "山阴县", "county", "140600000000")
    region(session, w.town_a, "岱岳镇", "town", w.county)
    region(session, w.town_b, "玉井镇", "town", w.county)
    villages = ((w.village_a1, "东坪村", w.town_a), (w.village_a2, "西坪村", w.town_a),
                (w.village_b1, "玉井村", w.town_b), (w.village_b2, "北辛庄村", w.town_b))
    for code, name, town in villages:
        region(session, code, name, "village", town)
    scopes = {"inspector": [w.town_a], "village_cadre": [w.village_a1],
              "town_reviewer": [w.town_a], "county_admin": [w.county], "auditor": [w.county],
              "finance": [w.county], "department": [w.county]}
    for role, regions in scopes.items():
        w.users[role] = user(session, role, regions, username=role)
        w.tokens[role] = token_for(session, w.users[role])
    rng = random.Random(1)
    for code in (w.village_a1, w.village_a2, w.village_b1, w.village_b2):
        w.households[code] = household(session, code, name=rng.choice("王李张刘") + "建国",
                                       phone="13912345678", lat=39.52, lon=112.81)
    return w


def round_world(session) -> World:
    """The world with more to survey: 东坪村 4 households (3 特困), 西坪村 2 (1 一般农户)."""
    w = world(session)
    for i in range(3):
        household(session, w.village_a1, name=f"孙{i}", category="tekun")
    household(session, w.village_a2, name="一般户", category="ordinary")
    return w


def store_orphan(store, data: bytes) -> str:
    """Store photo bytes with no row, as a crash between object and row leaves them; return
    the key."""
    sha = hashlib.sha256(data).hexdigest()
    store.put(original_key(sha), data, content_type="image/jpeg", sha256=sha)
    return original_key(sha)
