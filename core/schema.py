"""How the OpenAPI schema describes our authentication and our own fields (loaded from CoreConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerFieldExtension


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


class MoneyFieldSchema(OpenApiSerializerFieldExtension):
    """Money is a string of digits whose pattern is exactly what MoneyField accepts (bounds included)."""

    target_class = "core.fields.MoneyField"

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "decimal", "pattern": self.target.pattern,
                "example": "12.50" if self.target.min_value else "0.00"}


class PastDateTimeFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.fields.PastDateTimeField"

    def map_serializer_field(self, auto_schema, direction):
        from .fields import _past_datetime_pattern

        return {"type": "string", "format": "date-time", "pattern": _past_datetime_pattern()}


class BirthDateFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "core.fields.BirthDateField"

    def map_serializer_field(self, auto_schema, direction):
        from .fields import _birth_date_pattern

        return {"type": "string", "format": "date", "pattern": _birth_date_pattern()}
