"""The OpenAPI schema and the docs, as a shop's developer reads them: every error code the API can answer is
listed (with its extra fields), operations are grouped and explained, examples match the schema, and the docs
page works without the internet."""

import ast
import importlib
import os
import re
import subprocess
import sys
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.staticfiles import finders

from config.openapi import NOT_FROM_AN_OPERATION, TAGS
from core.errors import ApplicationError
from tests.factories import MemberFactory

ROOT = Path(__file__).resolve().parent.parent
OUR_APPS = ["core", "members", "loyalty", "rewards", "referrals", "insight", "campaigns", "config"]
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def schema(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    return r.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _error_codes_by_operation(schema) -> dict[str, dict[str, list[str]]]:
    out = {}
    for _, _, op in _operations(schema):
        out[op["operationId"]] = {
            status: resp["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"]["enum"]
            for status, resp in op["responses"].items() if status[0] in "45"}
    return out


def _all_error_codes() -> set[str]:
    """Every value of every error-code enum of our apps (core.errors, <app>/exceptions.py)."""
    modules = [importlib.import_module("core.errors")]
    for app in OUR_APPS:
        if (ROOT / app / "exceptions.py").exists():
            modules.append(importlib.import_module(f"{app}.exceptions"))
    codes = set()
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum \
                    and value.__module__ == module.__name__:
                codes |= {m.value for m in value}
    return codes


def test_every_error_code_of_the_apps_is_in_the_schema(schema):
    codes = _all_error_codes()
    assert {"invalid", "member_not_found", "insufficient_points", "hold_exists", "referral_self"} <= codes
    assert set(schema["components"]["schemas"]["ErrorCode"]["enum"]) == codes
    answered = {c for by_status in _error_codes_by_operation(schema).values() for cs in by_status.values() for c in cs}
    assert codes - answered == {str(c) for c in NOT_FROM_AN_OPERATION}
    assert answered <= codes


def _error_classes() -> set[str]:
    names, todo = {"ApplicationError", "ValidationError", "Refusal"}, [ApplicationError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    return names


def _callee(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def test_no_error_is_raised_with_a_bare_string_code():
    errors = _error_classes()
    bare = []
    for app in OUR_APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call) or _callee(node) not in errors:
                    continue
                args = [kw.value for kw in node.keywords if kw.arg == "code"]
                if _callee(node) == "Refusal" and node.args:
                    args.append(node.args[0])
                if any(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == [], "error codes must come from an enum (<app>/exceptions.py): " + ", ".join(bare)


def test_every_operation_is_tagged_summarised_described_and_answers_the_one_error_shape(schema):
    tag_names = [t["name"] for t in TAGS]
    assert [t["name"] for t in schema["tags"]] == tag_names
    ops = list(_operations(schema))
    assert len(ops) >= 38
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert len(op["tags"]) == 1 and op["tags"][0] in tag_names, where
        assert op.get("summary") and op.get("description"), where
        errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
        assert "401" in errors and "403" in errors, where
        for resp in errors.values():
            media = resp["content"]["application/json"]
            detail = media["schema"]["properties"]["error"]
            assert detail["required"] == ["code", "message", "fields"], where
            codes = detail["properties"]["code"]["enum"]
            # Each code has its own example: the docs never show a made-up `additionalProp1` body.
            assert sorted(media["examples"]) == sorted(codes), where
            for code, example in media["examples"].items():
                assert example["value"]["error"]["code"] == code
    used = {op["tags"][0] for _, _, op in ops}
    assert used == set(tag_names)


def test_extra_fields_of_an_error_are_documented_on_the_operations_that_answer_it(schema):
    refusal = schema["paths"]["/api/v1/redemptions"]["post"]["responses"]["422"]
    props = refusal["content"]["application/json"]["schema"]["properties"]["error"]["properties"]
    assert "insufficient_points" in props["code"]["enum"]
    assert props["available"]["type"] == props["requested"]["type"] == "integer"
    assert {"needed", "got", "reasons"} <= set(props)
    refund = schema["paths"]["/api/v1/orders/{order_id}/refunds"]["post"]["responses"]["422"]
    props = refund["content"]["application/json"]["schema"]["properties"]["error"]["properties"]
    assert "refund_exceeds_order" in props["code"]["enum"]
    assert props["refundable"]["type"] == "string"
    assert "`refund_exceeds_order`" in props["requested"]["description"]
    # An operation that cannot answer a code does not list it.
    balance = schema["paths"]["/api/v1/members/{external_id}/balance"]["get"]["responses"]
    assert "422" not in balance
    assert balance["404"]["content"]["application/json"]["schema"]["properties"]["error"]["properties"]["code"][
        "enum"] == ["member_not_found"]


def _check_example(value, node, schema, where):
    """The example fits the schema's shape: known keys only, required keys present, arrays and objects nested."""
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    if value is None:
        assert node.get("nullable") or not node, where
        return
    if "allOf" in node:
        for sub in node["allOf"]:
            _check_example(value, sub, schema, where)
        return
    if node.get("type") == "array":
        assert isinstance(value, list), where
        for item in value:
            _check_example(item, node["items"], schema, where)
    elif node.get("type") == "object" and "properties" in node:
        assert isinstance(value, dict), where
        assert set(node.get("required", [])) - {k for k, v in node["properties"].items() if v.get("readOnly")} \
            <= set(value) or node.get("readOnly"), where
        assert set(value) <= set(node["properties"]), f"{where}: {set(value) - set(node['properties'])}"
        for key, item in value.items():
            _check_example(item, node["properties"][key], schema, f"{where}.{key}")
    elif node.get("type") == "integer":
        assert isinstance(value, int), where
    elif node.get("type") == "string":
        assert isinstance(value, str), where
        if node.get("format") == "decimal":
            Decimal(value)


CORE_CONTRACT = ["members_register", "orders_earn", "orders_refund", "members_balance", "members_transactions",
                 "redemptions_create", "redemptions_cancel", "points_adjust"]


def test_the_core_contract_has_examples_that_match_the_schema(schema):
    seen = set()
    for _, _, op in _operations(schema):
        op_id = op["operationId"]
        bodies = []
        if "requestBody" in op:
            bodies.append(("request", op["requestBody"]["content"]["application/json"]))
        bodies += [(status, r["content"]["application/json"]) for status, r in op["responses"].items()
                   if status.startswith("2") and "content" in r]
        for name, media in bodies:
            for example in media.get("examples", {}).values():
                _check_example(example["value"], media["schema"], schema, f"{op_id} {name}")
                seen.add((op_id, "request" if name == "request" else "response"))
    for op_id in CORE_CONTRACT:
        assert (op_id, "response") in seen, op_id
    for op_id in ["members_register", "orders_earn", "orders_refund", "redemptions_create", "redemptions_cancel",
                  "points_adjust"]:
        assert (op_id, "request") in seen, op_id


def test_an_error_the_api_answers_is_the_one_the_schema_lists(api, program, schema):
    member = MemberFactory()
    r = api.post("/api/v1/redemptions", {"member": member.external_id, "points": 100})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "insufficient_points"
    props = schema["paths"]["/api/v1/redemptions"]["post"]["responses"]["422"]["content"]["application/json"][
        "schema"]["properties"]["error"]["properties"]
    assert error["code"] in props["code"]["enum"]
    assert set(error) - {"code", "message", "fields"} <= set(props)
    r = api.get("/api/v1/members/nobody/balance")
    assert r.status_code == 404
    listed = _error_codes_by_operation(schema)["members_balance"]["404"]
    assert r.json()["error"]["code"] in listed


def test_the_schema_is_valid_without_warnings():
    result = subprocess.run([sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn",
                             "--file", os.devnull], cwd=ROOT, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_the_docs_load_their_assets_from_our_own_static_files(api, page):
    r = api.get(page)
    assert r.status_code == 200
    html = r.content.decode()
    assert not re.search(r"https?://", html.replace("http://www.w3.org", "")), "no CDN: the docs must work offline"
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    scripts = [a for a in assets if a.endswith(".js")]
    assert scripts, html
    assert apps.is_installed("drf_spectacular_sidecar")
    for asset in scripts:
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), asset
