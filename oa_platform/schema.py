"""OpenAPI description of the API (loaded by OaPlatformConfig.ready): the account token authentication, and
every operation's error answers in the one JSON error shape of ``oa_platform.api_errors``."""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse

# {"error": {"code", "message", "fields"?}}: fields maps an input field to its message(s); the value is a
# string, a list of strings, or an object for nested input (a list's items by index), as the check gave it.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. invalid, not_found, same_person"},
                "message": {"type": "string", "description": "human-readable, in the request's language"},
                "fields": {"type": "object", "additionalProperties": {}, "description": "input field -> problem"},
            },
            "required": ["code", "message"],
        }
    },
    "required": ["error"],
}
# A required text field: DRF trims it and refuses it blank; this says so in the schema ("pattern": "\\S") so a
# client (or a schema-driven test generator) does not take "" or "  " for valid input.
NOT_BLANK = RegexValidator(r"\S", _("This field may not be blank."))  # DRF's own text and translations

# Answers any operation can give, whatever its view: before the view (token, account, body size) or from
# input checks. A view declares the others it gives (409 conflict, 429 flooding) itself.
COMMON_ERRORS = {
    400: "invalid input (malformed JSON, a missing, empty or wrong field)",
    401: "missing, malformed, unknown or revoked token",
    403: "the token belongs to another account or lacks the scope",
    404: "no such object in this account",
    413: "the request body is over the limit (2 MiB), refused before it is read",
}


class AccountTokenScheme(OpenApiAuthenticationExtension):
    target_class = "oa_platform.authentication.AccountTokenAuthentication"
    name = "AccountToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Account API token: `Token <token>` (python manage.py issue_token).",
        }


class ApiAutoSchema(AutoSchema):
    """Every operation lists its error answers with the error body: the common ones above, and any error a
    view declared with a description only gets the body too."""

    def error_ref(self) -> dict:
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)
        self.registry.register_on_missing(component)
        return component.ref

    def _get_response_bodies(self, direction="response"):
        # Not get_response_serializers: @extend_schema(responses=...) overrides that one in a subclass.
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        error = self.error_ref()
        for status, description in COMMON_ERRORS.items():
            responses.setdefault(str(status), {"description": description})
        for code, response in responses.items():
            if int(code) >= 400 and not response.get("content"):
                description = response.get("description") or COMMON_ERRORS.get(int(code), "")
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(error, description=description), code, direction=direction
                )
        return dict(sorted(responses.items()))
