"""Runs Schemathesis' command line against a server that answers at `base_url`, with the seeded key, token and
ids; returns (exit code, output). Shared by the test and by anyone reproducing a failure by hand."""

import base64
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .seed import MEMBER, Seeded

# Enough examples per operation that every phase reaches each one, few enough that the run fits in ~3 minutes
# on two cores.
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "12"))
SEED = 20261124
CURSOR = base64.b64encode(b"p=9000000000").decode()


def config_toml(seeded: Seeded) -> str:
    return f"""
seed = {SEED}
workers = 1
continue-on-failure = true
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large"]

[generation]
mode = "all"
max-examples = {MAX_EXAMPLES}
allow-x00 = false
unique-inputs = true

[phases.stateful]
max-steps = 8

[checks]
# A well-formed request may still be refused by a business rule (a balance, a closed membership): 422 in this API.
positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]

[auth.openapi.ApiKey]
api_key = "Api-Key {seeded.api_key}"

[auth.openapi.MemberToken]
bearer = "{seeded.member_token}"

[parameters]
"path.external_id" = "{MEMBER}"
"path.order_id" = "{seeded.order_id}"
"path.redemption_id" = {seeded.redemption_id}
"path.hold_id" = {seeded.hold_id}
"path.subscription_id" = {seeded.subscription_id}
"path.code" = "{seeded.voucher_code}"
# A cursor is opaque: only one the server made can be valid. This one starts below every id (an empty page).
"query.cursor" = "{CURSOR}"

# The coverage phase tries every value of an enum: the ~600 time zones of registering and updating a member
# alone would take minutes. Their other phases still run.
[[operations]]
include-operation-id = ["members_register", "members_update"]
phases.coverage.enabled = false

# A refund's lines must not add up to more than its amount: a rule across fields that the schema cannot say.
[[operations]]
include-operation-id = "orders_refund"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404", "409", "422", "429"]
"""


def run(base_url: str, seeded: Seeded, *extra: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "schemathesis.toml"
        config.write_text(config_toml(seeded))
        command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
                   f"{base_url}/api/schema/", "--checks", "all", *extra]
        done = subprocess.run(command, capture_output=True, text=True, cwd=tmp,
                              env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}, timeout=400)
    return done.returncode, done.stdout + done.stderr
