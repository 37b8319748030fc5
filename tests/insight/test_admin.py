"""Staff see insight's tables read-only, and the rules that place members."""

import pytest
from django.contrib.auth import get_user_model

from insight.models import MemberFacts
from insight.services import segments_compute


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw")
    client.force_login(user)
    return client


def test_segments_and_facts_are_listed_and_filtered_but_not_editable(staff_client, member):
    MemberFacts.objects.create(member=member, orders_count=0)
    segments_compute()
    for name in ("historicalorder", "membersegment", "memberfacts", "stagechange", "surveyanswer", "metricsnapshot", "clvmodel"):
        r = staff_client.get(f"/admin/insight/{name}/")
        assert r.status_code == 200, name
        assert staff_client.get(f"/admin/insight/{name}/add/").status_code == 403, name
    listed = staff_client.get("/admin/insight/membersegment/?stage__exact=prospect")
    assert member.external_id in listed.content.decode()
    settings_page = staff_client.get("/admin/insight/insightsettings/", follow=True).content.decode()
    assert "雇佣型忠诚" in settings_page and "active_days" in settings_page
