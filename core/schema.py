"""How the OpenAPI schema describes our authentication (loaded from CoreConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "core.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "The shop's key: `Api-Key <key>`. Create one with `manage.py create_api_key`."}


class MemberTokenScheme(OpenApiAuthenticationExtension):
    target_class = "members.authentication.MemberTokenAuthentication"
    name = "MemberToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "A member-scoped token from POST /api/v1/members/{external_id}/tokens."}
