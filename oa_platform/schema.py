"""OpenAPI description of the account token authentication (loaded by OaPlatformConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
