class KeyConverter:
    """A path segment that is a key of ours: no control characters (PostgreSQL text refuses NUL), at most 100."""

    regex = r"[^/\x00-\x1f\x7f]{1,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
