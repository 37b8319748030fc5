"""The schema tells the truth: Schemathesis generates requests from /api/schema/ for every operation (valid and
invalid ones, then sequences of calls) against a live server, and checks every answer against the schema: no
5xx, every status and body documented, invalid requests refused, valid ones accepted. A failure prints what to
send to reproduce it."""

import pytest

from .runner import run
from .seed import seed_program


@pytest.mark.django_db(transaction=True)
def test_the_api_answers_as_its_schema_says(live_server, settings):
    settings.ALLOWED_HOSTS = ["*"]
    seeded = seed_program()
    code, output = run(live_server.url, seeded)
    assert code == 0, output
