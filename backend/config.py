"""Settings: safe defaults here, overridden by environment variables, then by a test config."""

import os
from pathlib import Path

INSTANCE_DIR = Path(__file__).parent.parent / "instance"


def _env(name: str, default, cast=str):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if cast is bool:
        return value.lower() in {"1", "true", "yes", "on"}
    return cast(value)


def load_settings() -> dict:
    """Read every setting from the environment, else a default that works on one machine."""
    instance = Path(_env("INSPECT_INSTANCE_DIR", str(INSTANCE_DIR)))
    return {
        # Core
        "SECRET_KEY": _env("SECRET_KEY", None),
        "SQLALCHEMY_DATABASE_URI": _env("DATABASE_URL", f"sqlite:///{instance / 'inspect.db'}"),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": _env("MAX_UPLOAD_MB", 20, int) * 1024 * 1024 + 64 * 1024,
        "JSON_AS_ASCII": False,
        # Photo storage
        "STORAGE_BACKEND": _env("STORAGE_BACKEND", "local"),
        "STORAGE_LOCAL_ROOT": _env("STORAGE_LOCAL_ROOT", str(instance / "photos")),
        "S3_BUCKET": _env("S3_BUCKET", "inspect-photos"),
        "S3_ENDPOINT_URL": _env("S3_ENDPOINT_URL", None),
        "S3_REGION": _env("S3_REGION", "us-east-1"),
        "S3_ADDRESSING_STYLE": _env("S3_ADDRESSING_STYLE", "path"),
        "S3_ACCESS_KEY_ID": _env("S3_ACCESS_KEY_ID", None),
        "S3_SECRET_ACCESS_KEY": _env("S3_SECRET_ACCESS_KEY", None),
        "S3_PRESIGN_EXPIRES": _env("S3_PRESIGN_EXPIRES", 300, int),
        # Accounts
        "TOKEN_TTL_DAYS": _env("TOKEN_TTL_DAYS", 14, int),
        "LOGIN_MAX_FAILURES": _env("LOGIN_MAX_FAILURES", 5, int),
        "LOGIN_SOURCE_MAX_FAILURES": _env("LOGIN_SOURCE_MAX_FAILURES", 30, int),
        "LOGIN_ACCOUNT_MAX_FAILURES": _env("LOGIN_ACCOUNT_MAX_FAILURES", 20, int),
        "LOGIN_LOCKOUT_MINUTES": _env("LOGIN_LOCKOUT_MINUTES", 15, int),
        # Reverse proxies whose X-Forwarded-For is believed (addresses or networks, commas)
        "TRUSTED_PROXIES": _env("TRUSTED_PROXIES", ""),
        "PASSWORD_HASH_METHOD": _env("PASSWORD_HASH_METHOD", "scrypt"),
        # Photos
        "PHOTO_MAX_BYTES": _env("MAX_UPLOAD_MB", 20, int) * 1024 * 1024,
        "PHOTO_MAX_PIXELS": _env("PHOTO_MAX_PIXELS", 60_000_000, int),
        "PHOTO_LOW_ACCURACY_M": _env("PHOTO_LOW_ACCURACY_M", 50.0, float),
        "PHOTO_FAR_FROM_HOUSE_M": _env("PHOTO_FAR_FROM_HOUSE_M", 100.0, float),
        "PHOTO_EXIF_PHONE_MISMATCH_M": _env("PHOTO_EXIF_PHONE_MISMATCH_M", 200.0, float),
        "PHOTO_MAX_CLOCK_SKEW_MINUTES": _env("PHOTO_MAX_CLOCK_SKEW_MINUTES", 30, int),
        "PHOTO_MAX_UPLOAD_DELAY_DAYS": _env("PHOTO_MAX_UPLOAD_DELAY_DAYS", 30, int),
        "PHOTO_REUSE_DISTANCE": _env("PHOTO_REUSE_DISTANCE", 6, int),
        "PHOTO_CROP_DISTANCE": _env("PHOTO_CROP_DISTANCE", 4, int),
        "PHOTO_REUSE_MAX_MATCHES": _env("PHOTO_REUSE_MAX_MATCHES", 20, int),
        "PHOTO_LOW_DETAIL": _env("PHOTO_LOW_DETAIL", 3.0, float),
        "PHOTO_MIN_PHASE_GAP_DAYS": _env("PHOTO_MIN_PHASE_GAP_DAYS", 7, int),
        "PHOTO_MIN_WORKS_DAYS": _env("PHOTO_MIN_WORKS_DAYS", 20, int),
        "PHOTO_MOCK_DECIMALS": _env("PHOTO_MOCK_DECIMALS", 6, int),
        # Case documents (附件): PDF, JPEG, PNG; images also keep to PHOTO_MAX_PIXELS
        "ATTACHMENT_MAX_BYTES": _env("MAX_UPLOAD_MB", 20, int) * 1024 * 1024,
        # Deadlines from the seeds (days)
        "RECTIFICATION_DAYS": _env("RECTIFICATION_DAYS", 15, int),
        "HAZARD_REPORT_DAYS": _env("HAZARD_REPORT_DAYS", 5, int),
        "HAZARD_APPRAISE_DAYS": _env("HAZARD_APPRAISE_DAYS", 7, int),
        "WORKS_START_DAYS": _env("WORKS_START_DAYS", 30, int),
        # OpenAPI (flask-smorest)
        "API_TITLE": "危房改造现场检查 API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "INSTANCE_DIR": str(instance),
    }
