"""The back office's Chinese catalogs: every string translated, and the compiled .mo files (committed) in step
with the .po files, so a clerk never meets an English string we forgot to compile."""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = sorted(ROOT.glob("*/locale/zh_Hans/LC_MESSAGES/django.po"))
STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


def entries(po: Path):
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        parts, key = {}, None
        for line in block.splitlines():
            if line.startswith(("msgctxt ", "msgid ", "msgstr ")):
                key = line.split(" ", 1)[0]
                parts[key] = ""
            if key and line.startswith(("msgctxt ", "msgid ", "msgstr ", '"')):
                parts[key] += "".join(STRING.findall(line)).replace('\\"', '"').replace("\\n", "\n")
        if parts.get("msgid"):
            yield parts.get("msgctxt"), parts["msgid"], parts.get("msgstr", "")


def test_there_are_back_office_catalogs():
    assert {p.parts[-5] for p in CATALOGS} >= {"core", "members", "loyalty", "rewards", "referrals"}


@pytest.mark.parametrize("po", CATALOGS, ids=lambda p: p.parts[-5])
def test_every_string_is_translated_and_compiled(po):
    compiled = gettext.GNUTranslations(po.with_suffix(".mo").open("rb"))
    for context, msgid, msgstr in entries(po):
        assert msgstr, f"not translated: {msgid!r}"
        got = compiled.pgettext(context, msgid) if context else compiled.gettext(msgid)
        assert got == msgstr, f"{po.parts[-5]}: compile the catalog again ({msgid!r})"
