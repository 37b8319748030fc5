"""Phone numbers: one parser for the whole program (API, admin form, admin search, the counter, fraud checks).

Members' numbers are stored in E.164 ("+8613800138000"). A number typed without its country code is read in the
program's region (MembershipSettings.phone_region, "CN" unless staff set another), so a clerk in Shanghai types
"138 0013 8000" and a shop sends "+86 138-0013-8000" or "0086 13800138000": all three are the same member.
Pure functions over the phonenumbers library: no writes, nothing but the settings row read.
"""

import re

import phonenumbers
from phonenumbers.geodata.locale import LOCALE_DATA

DEFAULT_REGION = "CN"
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
"""What a stored number looks like; a stored phone that does not match was kept as typed (it could not be read)."""


class InvalidPhone(ValueError):
    """The text is not a valid phone number (in the program's region, or with its own country code)."""


def region_choices(language: str = "en") -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 regions the parser knows, labelled in the staff's language ("CN - 中国" / "CN - China")."""
    lang = "zh" if (language or "").startswith("zh") else "en"
    out = []
    for code in sorted(phonenumbers.SUPPORTED_REGIONS):
        names = LOCALE_DATA.get(code, {})
        name = names.get(lang) or names.get("en") or ""
        if name.startswith("*"):  # the library's "same as English" marker
            name = names.get("en") or ""
        out.append((code, f"{code} - {name}" if name else code))
    return out


def program_region() -> str:
    from .models import MembershipSettings

    return MembershipSettings.current().phone_region or DEFAULT_REGION


def phone_parse(raw: str, *, region: str | None = None) -> str:
    """'+86 138-0013-8000', '0086 13800138000', '(138) 0013 8000' (in region CN) -> '+8613800138000'.

    "" stays "" (no phone). Raises InvalidPhone when the text is not a valid number."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    text = raw
    if text.startswith("00"):  # the international prefix most of the world dials; the library reads it per region
        text = "+" + text[2:]
    if not text.startswith("+"):  # only a number without its country code needs the program's region
        region = (region or program_region()).upper()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(raw) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_candidates(query: str, *, region: str | None = None) -> set[str]:
    """The stored number a search text means: as typed in the region, else as a full number that lost its "+"
    ("447911123456" in region CN). Empty when the text is no phone number (a name, an e-mail)."""
    query = (query or "").strip()
    if sum(ch.isdigit() for ch in query) < 6 or re.search(r"[^\d\s()+\-./]", query):
        return set()
    region = region or program_region()
    for text in (query, "+" + re.sub(r"\D", "", query)):
        try:
            return {phone_parse(text, region=region)}
        except InvalidPhone:
            pass
    return set()


def phones_same(a: str, b: str, *, region: str | None = None) -> bool:
    """Whether two stored numbers are one (a number kept as typed is compared in its parsed form if it has one)."""
    if not a or not b:
        return False
    if a == b:
        return True
    region = region or program_region()

    def key(value: str) -> str:
        if E164.match(value):
            return value
        try:
            return phone_parse(value, region=region)
        except InvalidPhone:
            return re.sub(r"\D", "", value)

    return key(a) == key(b)
