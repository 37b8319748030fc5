from rest_framework.permissions import BasePermission

MEMBER_TOKEN_MESSAGE = ("This is a member token: it can only use the member's own endpoints (/api/v1/me...). "
                        "This endpoint needs the shop's API key.")


def requires_scope(scope: str, *, allow_staff_perm: str | None = None) -> type[BasePermission]:
    """Permission class: a shop key holding `scope` (or a staff user with `allow_staff_perm`)."""

    class _ScopePermission(BasePermission):
        message = f"This API key lacks the scope {scope}."

        def has_permission(self, request, view) -> bool:
            user = request.user
            if user is None or not getattr(user, "is_authenticated", False):
                return False
            if hasattr(user, "has_scope"):
                return user.has_scope(scope)
            if getattr(user, "is_member", False):
                self.message = MEMBER_TOKEN_MESSAGE
                return False
            if allow_staff_perm and getattr(user, "is_staff", False):
                self.message = f"This staff account lacks the permission {allow_staff_perm}."
                return user.has_perm(allow_staff_perm)
            self.message = "This endpoint needs a shop API key (Authorization: Api-Key ...)."
            return False

    _ScopePermission.__name__ = f"Requires_{scope.replace(':', '_')}"
    return _ScopePermission
