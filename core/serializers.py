import copy

from rest_framework import serializers

# What a JSON value must be for a field of each kind; DRF would read 42 as "42", and "yes" as True.
_JSON_TYPES = (
    (serializers.BooleanField, (bool,), "true or false is required."),
    (serializers.CharField, (str,), "A string is required."),
)


def _wrong_type(field, value) -> str | None:
    if value is None:
        return None  # allow_null decides
    for kind, types, message in _JSON_TYPES:
        if isinstance(field, kind):
            return None if isinstance(value, types) else message
    return None


class StrictSerializer(serializers.Serializer):
    """A request serializer that refuses fields it does not know, so a typo never passes silently, and values of
    the wrong JSON type (a number for a string, a string for a boolean), as the schema says."""

    def to_internal_value(self, data):
        unknown = sorted(set(data) - set(self.fields)) if isinstance(data, dict) else []
        errors = {name: ["Unknown field."] for name in unknown}
        if isinstance(data, dict):
            for name, field in self.fields.items():
                message = _wrong_type(field, data[name]) if name in data and not field.read_only else None
                if message:
                    errors[name] = [message]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if not isinstance(exc.detail, dict):
                raise
            raise serializers.ValidationError({**exc.detail, **errors}) from exc
        if errors:
            raise serializers.ValidationError(errors)
        return value


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField()


class ErrorSerializer(serializers.Serializer):
    """The one error shape, for the schema."""

    error = ErrorDetailSerializer()


def parse(serializer_class, request, **kwargs) -> dict:
    """Validate a request body with `serializer_class`; a bad one raises the 400 in the API's error shape."""
    serializer = serializer_class(data=request.data if request.data is not None else {}, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class BuiltOnceModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer for answers, whose fields are built from the model once per class instead of on every
    use (ModelSerializer introspects the model and builds every field each time: on a hot path, more CPU than the
    rendering). Each serializer still gets its own copies, as a plain Serializer does of its declared fields."""

    def get_fields(self):
        cls = type(self)
        built = cls.__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            cls._built_fields = built
        return copy.deepcopy(built)
