"""Login throttling, counted atomically in the database so that every worker and server shares it.

After the OWASP Authentication Cheat Sheet ("Account Lockout" and "Protect Against Automated
Attacks"): failed logins are counted per account, per source address, and per account *and*
source, in fixed windows. The attempt is counted *before* the password is checked, by one
`INSERT … ON CONFLICT DO UPDATE … RETURNING` per counter, so N parallel guesses get exactly the
allowed number of checks (no check-then-insert). Limits (settings, see README):

- per account and source, strict (`LOGIN_MAX_FAILURES`): a guesser at one address gets a few tries;
- per source (`LOGIN_SOURCE_MAX_FAILURES`): one address spraying many usernames is stopped;
- per account (`LOGIN_ACCOUNT_MAX_FAILURES`): many addresses guessing one password are stopped,
  but this lock holds only for sources that have already failed on that account in the window.
  The cheat sheet warns that lockout lets an attacker deny service to the real user; here a
  stranger elsewhere cannot lock a user out, who still gets in from an address that has not failed.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, case, delete, update
from sqlalchemy.dialects import postgresql, sqlite

from backend.models import LoginCounter
from backend.models.base import UTCDateTime

_TABLE = LoginCounter.__table__
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


@dataclass(frozen=True)
class Throttle:
    """The three limits of one window."""

    per_account_source: int = 5
    per_source: int = 30
    per_account: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Attempt:
    """One login attempt's counter keys, and the username they belong to."""

    account_source: str
    source: str
    account: str
    username: str

    @classmethod
    def of(cls, username: str, source: str | None) -> "Attempt":
        source = source or "unknown"
        return cls(_key("as", username, source), _key("s", source), _key("a", username),
                   username[:64])


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def count_attempt(session, attempt: Attempt, throttle: Throttle, now: datetime) -> int | None:
    """Count the attempt on its three counters and commit; return the seconds to wait if it is
    refused, None if the password may be checked."""
    counted = {key: _increment(session, key, account, now, throttle.window)
               for key, account in ((attempt.account_source, attempt.username),
                                    (attempt.source, None),
                                    (attempt.account, attempt.username))}
    session.commit()  # release the counters' locks before the slow password hash
    pair, source, account = (counted[k] for k in (attempt.account_source, attempt.source,
                                                  attempt.account))
    refused = [start for (n, start), limit, applies in (
        (pair, throttle.per_account_source, True),
        (source, throttle.per_source, True),
        # The account's lock holds only where this source has failed on it before.
        (account, throttle.per_account, pair[0] > 1),
    ) if applies and n > limit]
    if not refused:
        return None
    return max(1, int((max(refused) + throttle.window - now).total_seconds()))


def forget_success(session, attempt: Attempt, throttle: Throttle, now: datetime) -> None:
    """A right password: clear this source's count on the account, take back the attempt from
    the other two counters, and drop every counter whose window is over (not committed)."""
    session.execute(delete(LoginCounter).where(
        (LoginCounter.key == attempt.account_source)
        | (LoginCounter.window_start <= now - throttle.window)))
    session.execute(update(LoginCounter)
                    .where(LoginCounter.key.in_([attempt.source, attempt.account]),
                           LoginCounter.failures > 0)
                    .values(failures=LoginCounter.failures - 1))


def forget_account(session, username: str) -> None:
    """Clear an account's counters, from every source (a password reset; not committed)."""
    session.execute(delete(LoginCounter).where(LoginCounter.account == username[:64]))


def _increment(session, key: str, account: str | None, now: datetime,
               window: timedelta) -> tuple[int, datetime]:
    """Add one to a counter, starting a new window when its window is over; one statement."""
    when = bindparam("now", now, type_=UTCDateTime)
    expired = _TABLE.c.window_start <= bindparam("cutoff", now - window, type_=UTCDateTime)
    insert = _INSERTS[session.get_bind().dialect.name](_TABLE)
    row = {"key": key, "account": account, "window_start": now, "failures": 1}
    statement = insert.values(**row).on_conflict_do_update(
        index_elements=[_TABLE.c.key],
        set_={"failures": case((expired, 1), else_=_TABLE.c.failures + 1),
              "window_start": case((expired, when), else_=_TABLE.c.window_start)},
    ).returning(_TABLE.c.failures, _TABLE.c.window_start)
    failures, start = session.execute(statement).one()
    return failures, start
