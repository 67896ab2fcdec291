"""What every API module shares: the strict base schema, Chinese field errors, the caller."""

import hashlib
from datetime import date, datetime

from flask import current_app, g, request
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from backend import display
from backend.extensions import db
from backend.models.base import MAX_INTEGER, china_today
from backend.services import accounts, inputs
from backend.services.errors import Unauthenticated
from backend.services.pagination import MAX_PAGE_SIZE
from backend.services.policy import Actor

# marshmallow's messages are English; users read these on a phone, so say them in Chinese.
fields.Field.default_error_messages.update(
    required="必填项", null="不能为空", validator_failed="取值无效"
)
for cls, messages in {
    fields.String: {"invalid": "应为文本"},
    fields.Integer: {"invalid": "应为整数", "too_large": "数值过大"},
    fields.Float: {"invalid": "应为数字", "special": "应为有限的数字"},
    fields.Decimal: {"invalid": "应为数字"},
    fields.Boolean: {"invalid": "应为是或否"},
    fields.DateTime: {"invalid": "时间格式应为 ISO 8601，如 2026-11-22T10:30:00+08:00"},
    fields.Date: {"invalid": "日期格式应为 YYYY-MM-DD"},
    fields.UUID: {"invalid_uuid": "应为 UUID"},
    fields.List: {"invalid": "应为列表"},
    fields.Nested: {"type": "格式有误"},
}.items():
    cls.default_error_messages = {**cls.default_error_messages, **messages}
# The validators' messages too (a range's bounds, a length), in the same words.
validate.Range.message_min = "应{min_op} {{min}}"
validate.Range.message_max = "应{max_op} {{max}}"
validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
validate.Range.message_gte, validate.Range.message_gt = "不小于", "大于"
validate.Range.message_lte, validate.Range.message_lt = "不大于", "小于"
validate.Length.message_min = "长度不能少于 {min}"
validate.Length.message_max = "长度不能超过 {max}"
validate.Length.message_all = "长度应在 {min} 至 {max} 之间"
validate.Length.message_equal = "长度应为 {equal}"
validate.OneOf.default_message = "应为以下之一：{choices}"
validate.Regexp.default_message = "格式不正确"


class BaseSchema(Schema):
    """Refuse unknown fields, so a typo in a client is an error rather than silently dropped;
    bound every input field the same way, whichever schema declares it (`bound_input`)."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "未知字段", "type": "格式有误"}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        bound_input(field_obj)


def refuse_unsafe_text(value: str) -> None:
    if inputs.has_unsafe(value):
        raise ValidationError(inputs.UNSAFE_MESSAGE)


def refuse_implausible_date(value: date | datetime) -> None:
    if problem := inputs.date_problem(value):
        raise ValidationError(problem)


INTEGER_RANGE = validate.Range(-MAX_INTEGER - 1, MAX_INTEGER)


def whole_number(value) -> int:
    """int() would cut 2.5 to 2: a whole-number field refuses it, as the import does."""
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def bound_input(field: fields.Field) -> None:
    """Text without control characters and plausible dates (`backend.services.inputs`), whole
    numbers a database column holds; inside lists and mappings too."""
    if field.dump_only or getattr(field, "bounded", False):
        return
    field.bounded = True
    # A new list, never an append: each schema instance (webargs makes one per request) binds a
    # shallow copy of the class's field, which shares the class's list, so appending grew it by
    # one validator a request for the life of the worker.
    if isinstance(field, fields.String):
        field.validators = [*field.validators, refuse_unsafe_text]
    elif isinstance(field, fields.Integer):
        field._format_num = whole_number
        field.validators = [*field.validators, INTEGER_RANGE]
    elif isinstance(field, fields.Date | fields.DateTime):
        field.validators = [*field.validators, refuse_implausible_date]
    elif isinstance(field, fields.List):
        bound_input(field.inner)
    elif isinstance(field, fields.Mapping):
        for inner in (field.key_field, field.value_field):
            if inner is not None:
                bound_input(inner)


# Free text (notes, names, reasons): a plain String, bounded like every other by BaseSchema.
Text = fields.String


class ErrorSchema(Schema):
    code = fields.String()
    message = fields.String()
    fields_ = fields.Dict(data_key="fields")


def api_blueprint(name: str, import_name: str, *, public: tuple[str, ...] = ()) -> Blueprint:
    """Make a blueprint whose every route needs a valid bearer token, except the `public` ones."""
    blp = Blueprint(name, import_name, url_prefix="/api/v1")

    @blp.before_request
    def require_login():
        # g outlives a request when an app context is shared (tests); never reuse a caller.
        g.pop("user", None)
        g.pop("actor", None)
        if request.endpoint not in {f"{name}.{view}" for view in public}:
            current_actor()

    return blp


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user():
    if "user" not in g:
        token = bearer_token()
        if token is None:
            raise Unauthenticated()
        g.user = accounts.authenticate(db.session, token)
        g.actor = Actor.of(g.user)
    return g.user


def current_actor() -> Actor:
    current_user()
    return g.actor


def cursor_key() -> bytes:
    return hashlib.sha256(b"cursor:" + current_app.secret_key.encode()).digest()


def today() -> date:
    """Today in China, which is what a date typed by a user means."""
    return china_today()



class IdNumberField(fields.String):
    """An ID number, shown in full only to callers with the PII right."""

    def _serialize(self, value, attr, obj, **kwargs):
        return display.id_number(value, g.actor)


class PhoneField(fields.String):
    """A phone number, its middle four digits hidden from callers without the PII right."""

    def _serialize(self, value, attr, obj, **kwargs):
        return display.phone(value, g.actor)


MULTIPART_SLACK = 64 * 1024  # room for the fields beside the file


def refuse_large_uploads(blp: Blueprint, limit_key: str, error: type, noun: str) -> None:
    """Refuse a PUT whose body is larger than `config[limit_key]` before reading any of it."""

    @blp.before_request
    def refuse_oversized_upload():
        limit = current_app.config[limit_key]
        if request.method == "PUT" and (request.content_length or 0) > limit + MULTIPART_SLACK:
            raise error(f"{noun}超过 {limit // (1024 * 1024)} MB",
                        bytes=request.content_length, max_bytes=limit)


class PageArgsSchema(BaseSchema):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_PAGE_SIZE))
