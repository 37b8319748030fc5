"""The compiled catalogs (committed) say what the .po files say: a translation edited in a .po and not compiled
would never reach a member."""

import gettext
import re
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def po_entries(path: Path) -> dict[str, str]:
    """msgid -> first msgstr of a .po file (plural forms by their singular msgid)."""
    entries, key, field, values = {}, None, None, {}
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?|msgstr\[\d+\])\s+"(.*)"$', line)
        if m:
            field = m.group(1)
            values[field] = m.group(2)
        elif line.startswith('"') and field:
            values[field] += line[1:-1]
        elif not line.strip() and values:
            key = values.get("msgid", "")
            if key:
                entries[key.replace('\\"', '"')] = (values.get("msgstr") or values.get("msgstr[0]", "")).replace('\\"', '"')
            values, field = {}, None
    return entries


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_compiled_catalog_matches_its_po_file(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    for msgid, msgstr in po_entries(folder / "django.po").items():
        if msgstr:
            assert catalog.gettext(msgid) == msgstr.replace("\\n", "\n"), msgid


def test_every_chinese_string_is_translated():
    untranslated = [k for k, v in po_entries(LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po").items() if not v]
    assert untranslated == []
    assert "#, fuzzy" not in (LOCALE / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
