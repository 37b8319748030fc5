"""The data-change history (django-pghistory): database triggers record every insert, update and delete of the
tables staff and shops configure (settings, members, tiers, plans, catalog, vouchers, referral programs and
decisions, webhooks, channels, API keys), bulk `queryset.update()` included, with the row as it became. The
History page in the admin shows, per event, who (the staff user, the API channel, or the system), when, and each
changed field's old and new value.

The hand-written audit log (core.AuditLog) stays the record of *actions* with their reasons (a points
adjustment, a status change, an erasure); this history is the record of *data*: what a row held before and after.

`track()` is the one way our models are tracked, so every tracked table keeps the same events and exclusions.
"""

import functools
import json
import re

import pghistory
import pghistory.config
import pghistory.middleware
import pghistory.runtime as pghistory_runtime

ALWAYS_EXCLUDED = ["updated_at"]
"""Fields no history wants: a timestamp that changes with every save would be the only "change" of a no-op save."""


def track(*, exclude: tuple[str, ...] = ()):
    """Decorator: record inserts, updates (only when a recorded field changes) and deletes of the model, without the
    fields in `exclude` (secrets, personal data that erasure removes elsewhere, counters the hot paths move)."""

    def wrapper(model):
        names = {f.name for f in model._meta.fields}
        excluded = [name for name in (*ALWAYS_EXCLUDED, *exclude) if name in names]
        return pghistory.track(
            pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
            exclude=excluded or None, model_name=f"{model.__name__}Event",
        )(model)

    return wrapper


def history_note(**metadata) -> None:
    """Add to the current request's history context (no-op outside one): the API channel of a shop's write."""
    pghistory.context(**metadata)


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """pghistory's middleware, with the staff user's name kept beside their id (it stays readable if the user goes)."""

    def get_context(self, request) -> dict:
        context = super().get_context(request)
        user = getattr(request, "user", None)
        if context.get("user") is not None and user is not None:
            context["username"] = user.get_username()
        return context


def event_model_for(model) -> type | None:
    """The history (event) model that tracks `model`, or None when it is not tracked."""
    return _event_models().get(model._meta.concrete_model._meta.label_lower)


def tracked_models() -> list:
    """The tracked models, in the order of their app and name."""
    return sorted((m.pgh_tracked_model for m in _event_models().values()), key=lambda m: m._meta.label_lower)


_EVENT_MODELS: dict = {}


def _event_models() -> dict:
    if not _EVENT_MODELS:
        from django.apps import apps
        from pghistory.models import Event

        for model in apps.get_models():
            if issubclass(model, Event) and getattr(model, "pgh_tracked_model", None) is not None:
                _EVENT_MODELS[model.pgh_tracked_model._meta.label_lower] = model
    return _EVENT_MODELS


def history_url(model, pk) -> str:
    """The admin's History page, showing the data changes of one object."""
    from django.urls import reverse
    from django.utils.http import urlencode

    return reverse("admin:core_datachange_changelist") + "?" + urlencode(
        {"model": model._meta.concrete_model._meta.label_lower, "object": pk})


# --- Who made a change, without touching statements that change nothing tracked -------------------------------
# pghistory tells its triggers who is writing by prefixing every write statement in a context (every POST) with a
# `SELECT set_config(...);`. Two statements in one string cannot run with server-side binding or be prepared
# (DATABASE_PREPARE_THRESHOLD: "cannot insert multiple commands into a prepared statement"), and the prefix rides
# on every write of the earn path, whose tables no trigger watches. Ours: statements that write no tracked table
# run untouched; one that does is preceded by its own `set_config` statement (local to the transaction, or, outside
# one, set for the session and cleared right after the write).

_WRITE_TARGET = re.compile(r'\b(?:insert\s+into|update|delete\s+from)\s+"?([a-z0-9_]+)"?', re.IGNORECASE)
_SET = ("SELECT set_config('pghistory.context_id', %s, {local}), "
        "set_config('pghistory.context_metadata', %s, {local})")


@functools.cache
def tracked_tables() -> frozenset[str]:
    return frozenset(m._meta.db_table for m in tracked_models())


@functools.lru_cache(maxsize=1024)
def writes_tracked_table(sql: str) -> bool:
    return any(table.lower() in tracked_tables() for table in _WRITE_TARGET.findall(sql))


def _inject_history_context(execute, sql, params, many, context):
    text = sql.decode() if isinstance(sql, bytes) else sql
    cursor = context["cursor"]
    if not writes_tracked_table(text) or not pghistory_runtime._can_inject_variable(cursor, text):
        return execute(sql, params, many, context)
    tracker = pghistory_runtime._tracker.value
    values = (str(tracker.id), json.dumps(tracker.metadata, cls=pghistory.config.json_encoder()))
    connection = context["connection"]
    if connection.in_atomic_block:
        execute(_SET.format(local="true"), values, False, context)
        return execute(sql, params, many, context)
    execute(_SET.format(local="false"), values, False, context)
    try:
        return execute(sql, params, many, context)
    finally:
        if not pghistory_runtime._is_transaction_errored(cursor):
            execute(_SET.format(local="false"), ("", ""), False, context)


def install() -> None:
    """Called once from core's AppConfig.ready(): pghistory's context manager installs this wrapper instead."""
    pghistory_runtime._inject_history_context = _inject_history_context
