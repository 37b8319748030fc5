"""Member tokens: tied to the key that issued them, capped per member, rate-limited, revocable."""

from django.core.cache import cache
from django.utils import timezone

from core.models import ApiKey
from tests.conftest import ShopClient


def issue(api, member):
    return api.post(f"/api/v1/members/{member.external_id}/tokens", {})


def app(token: str) -> ShopClient:
    client = ShopClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_token_dies_with_the_key_that_issued_it(api, member):
    token = issue(api, member).json()["token"]
    assert app(token).get("/api/v1/me").status_code == 200
    ApiKey.objects.update(revoked_at=timezone.now())
    r = app(token).get("/api/v1/me")
    assert r.status_code == 401 and r.json()["error"]["code"] == "authentication_failed"


def test_a_member_holds_at_most_the_live_tokens_set_and_the_oldest_goes_first(api, member, settings):
    settings.MEMBER_TOKENS_MAX_LIVE = 2
    first, second, third = (issue(api, member).json()["token"] for _ in range(3))
    assert app(first).get("/api/v1/me").status_code == 401
    assert app(second).get("/api/v1/me").status_code == 200
    assert app(third).get("/api/v1/me").status_code == 200


def test_a_shop_can_revoke_every_token_of_a_member(api, member):
    tokens = [issue(api, member).json()["token"] for _ in range(2)]
    r = api.delete(f"/api/v1/members/{member.external_id}/tokens")
    assert r.status_code == 200 and r.json() == {"revoked": 2}
    assert all(app(t).get("/api/v1/me").status_code == 401 for t in tokens)
    assert api.delete(f"/api/v1/members/{member.external_id}/tokens").json() == {"revoked": 0}


def test_issuing_tokens_is_rate_limited_per_member(api, member, member_factory, settings):
    cache.clear()
    settings.MEMBER_TOKEN_RATE_PER_MEMBER = "3/hour"
    assert [issue(api, member).status_code for _ in range(4)] == [201, 201, 201, 429]
    r = issue(api, member)
    assert r.json()["error"]["code"] == "throttled" and "Retry-After" in r.headers
    assert issue(api, member_factory()).status_code == 201  # another member has their own allowance
    cache.clear()
