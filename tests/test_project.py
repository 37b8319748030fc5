import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deploy_check():
    # Without the browser tests' permission for sync ORM calls in Playwright's event loop (set in their conftest).
    env = {**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
           "DJANGO_SETTINGS_MODULE": "config.settings.production",
           "SECRET_KEY": "x7!kq#2vR9@pL4$wZ8^nB1&cF6*hJ3(mT5)yD0_sG-aE+uI=oK[lP]",
           "ALLOWED_HOSTS": "loyalty.example.com", "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres",
           "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.production", ALLOWED_HOSTS="x",
               DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres", CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_models_and_migrations_agree():
    result = subprocess.run([sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_openapi_schema_describes_the_core_contract(api):
    r = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ["/api/v1/members", "/api/v1/members/{external_id}", "/api/v1/members/{external_id}/balance",
              "/api/v1/members/{external_id}/transactions", "/api/v1/orders", "/api/v1/orders/{order_id}/refunds",
              "/api/v1/redemptions", "/api/v1/redemptions/{redemption_id}/cancel", "/api/v1/adjustments",
              "/api/v1/me/balance"]:
        assert p in paths, p
    assert api.get("/api/docs/").status_code == 200
