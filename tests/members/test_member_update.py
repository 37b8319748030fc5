"""Two updates of the same member at once, of different fields, both stand: an update writes the fields it was
given, not the whole row as its (possibly stale) copy of the member had it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from members import services
from members.api import views
from members.models import Member
from tests.conftest import ShopClient


def test_two_updates_built_from_stale_copies_keep_each_others_changes(api, member):
    first, second = Member.objects.get(pk=member.pk), Member.objects.get(pk=member.pk)  # both read before a write
    services.member_update(member=first, phone="+44 20 7946 0958")
    answer = services.member_update(member=second, marketing_consent=True, language="zh-hans")
    assert (answer.phone, answer.marketing_consent) == ("+442079460958", True)  # the answer is the row as stored
    body = api.get(f"/api/v1/members/{member.external_id}").json()
    assert (body["phone"], body["marketing_consent"], body["language"]) == ("+442079460958", True, "zh-hans")
    assert body["name"] == member.name


@pytest.mark.django_db(transaction=True)
def test_two_patches_at_once_through_the_api_both_stand(api, member, monkeypatch):
    both_read = threading.Barrier(2)
    read = views.member_get

    def member_get_then_wait(**kwargs):  # each request has its copy of the member before either writes
        found = read(**kwargs)
        both_read.wait(timeout=15)
        return found

    monkeypatch.setattr(views, "member_get", member_get_then_wait)
    patches = [{"name": "Ada Lovelace"}, {"email": "ADA@example.com", "birth_date": "1990-12-10"}]

    def patch(body):
        try:
            client = ShopClient()
            client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api.raw_key}")
            return client.patch(f"/api/v1/members/{member.external_id}", body).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(patch, patches)) == [200, 200]
    monkeypatch.undo()
    body = api.get(f"/api/v1/members/{member.external_id}").json()
    assert (body["name"], body["email"], body["birth_date"]) == ("Ada Lovelace", "ada@example.com", "1990-12-10")
    assert Member.objects.get(pk=member.pk).birth_month == 12
