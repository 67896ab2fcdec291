"""The settings-driven rules that services apply, built once per app from its config."""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from backend.client_address import trusted_networks
from backend.services.accounts import LoginPolicy
from backend.services.cases.overdue import Deadlines
from backend.services.photos.checks import PhotoRules
from backend.services.throttle import Throttle
from backend.services.visits.recording import VisitRules


@dataclass(frozen=True)
class Rules:
    photos: PhotoRules
    visits: VisitRules
    login: LoginPolicy
    deadlines: Deadlines

    @classmethod
    def from_config(cls, config) -> "Rules":
        trusted_networks(config["TRUSTED_PROXIES"])  # a mistyped setting stops the app here
        photos = PhotoRules.from_config(config)
        return cls(
            photos=photos,
            visits=VisitRules(rectification_days=config["RECTIFICATION_DAYS"], photos=photos),
            login=LoginPolicy(throttle=Throttle(
                per_account_source=config["LOGIN_MAX_FAILURES"],
                per_source=config["LOGIN_SOURCE_MAX_FAILURES"],
                per_account=config["LOGIN_ACCOUNT_MAX_FAILURES"],
                window=timedelta(minutes=config["LOGIN_LOCKOUT_MINUTES"])),
                token_ttl=timedelta(days=config["TOKEN_TTL_DAYS"])),
            deadlines=Deadlines.from_config(config),
        )


def current_rules() -> Rules:
    """The app's rules (made once in `create_app`)."""
    return current_app.extensions["rules"]
