"""The settings-driven rules that services apply, built once per app from its config."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from backend.services.accounts import LoginPolicy
from backend.services.cases.overdue import Deadlines
from backend.services.photos.checks import PhotoRules
from backend.services.visits.recording import VisitRules


@dataclass(frozen=True)
class Rules:
    photos: PhotoRules
    visits: VisitRules
    login: LoginPolicy
    deadlines: Deadlines

    @classmethod
    def from_config(cls, config) -> "Rules":
        return cls(
            photos=PhotoRules.from_config(config),
            visits=VisitRules(rectification_days=config["RECTIFICATION_DAYS"]),
            login=LoginPolicy(max_failures=config["LOGIN_MAX_FAILURES"],
                              lockout=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"]),
                              token_ttl=timedelta(days=config["TOKEN_TTL_DAYS"])),
            deadlines=Deadlines.from_config(config),
        )


def current_rules() -> Rules:
    """The app's rules (made once in `create_app`)."""
    return current_app.extensions["rules"]
