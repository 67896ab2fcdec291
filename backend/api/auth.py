"""Log in, log out, and who am I."""


from flask.views import MethodView
from marshmallow import fields

from backend.api.base import BaseSchema, api_blueprint, bearer_token, current_user
from backend.client_address import client_address
from backend.extensions import db
from backend.rules import current_rules
from backend.services import accounts, policy
from backend.vocabulary import LEVEL_LABELS, ROLE_LABELS

blp = api_blueprint("auth", __name__, public=("Login",))


class LoginSchema(BaseSchema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class RegionRefSchema(BaseSchema):
    code = fields.String()
    name = fields.String()
    level = fields.String()
    level_label = fields.Function(lambda r: LEVEL_LABELS[r.level])


class UserSchema(BaseSchema):
    id = fields.Integer()
    username = fields.String()
    name = fields.String()
    phone = fields.String()
    role = fields.String()
    role_label = fields.Function(lambda u: ROLE_LABELS[u.role])
    regions = fields.List(fields.Nested(RegionRefSchema))
    permissions = fields.Function(lambda u: sorted(policy.ROLE_PERMISSIONS[u.role]))


class TokenSchema(BaseSchema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Log in with a username and password; returns a bearer token."""
        token, row = accounts.login(db.session, body["username"], body["password"],
                                    remote_addr=client_address(), policy=current_rules().login)
        return {"token": token, "expires_at": row.expires_at, "user": row.user}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """Revoke the token this request carries."""
        accounts.logout(db.session, bearer_token())


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """Who am I: my role, my rights and my regions."""
        return current_user()
