"""Every model of our apps reads Chinese in the Chinese admin: its names, each field's verbose name and help text, each
choice's label and each custom permission's name are lazy translations with a zh_Hans translation in the catalogs
(the Chinese differs from the English), except a short list of names and codes that read the same in both."""

import pghistory.models
import pytest
from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import override

OUR_APPS = ["core", "members", "loyalty", "rewards", "referrals", "insight", "campaigns"]
SAME_IN_BOTH = {
    "r", "alpha", "a", "b", "p", "q", "gamma",  # the BG/NBD and Gamma-Gamma parameters, as the papers name them
    ">=", "<=", "=",  # a rule tag's operators
}


def texts(model):
    """(where, text) of everything the admin shows about a model."""
    meta = model._meta
    yield f"{meta.label} verbose_name", meta.verbose_name
    yield f"{meta.label} verbose_name_plural", meta.verbose_name_plural
    for codename, name in meta.permissions:
        yield f"{meta.label} permission {codename}", name
    for field in meta.get_fields():
        if field.auto_created or not field.concrete and not field.many_to_many or field.name.startswith("pgh_"):
            continue  # reverse relations, and the History's columns that django-pghistory defines
        where = f"{meta.label}.{field.name}"
        yield f"{where} verbose_name", field.verbose_name
        if field.help_text:
            yield f"{where} help_text", field.help_text
        for value, label in field.flatchoices if field.choices else ():
            yield f"{where} choice {value!r}", label


def untranslated() -> list[str]:
    problems = []
    for app in OUR_APPS:
        for model in apps.get_app_config(app).get_models():
            if issubclass(model, pghistory.models.Event):  # the History's generated copies (core/history.py)
                continue
            for where, text in texts(model):
                if str(text) in SAME_IN_BOTH:
                    continue
                if not isinstance(text, Promise):
                    problems.append(f"{where}: not marked for translation: {text!r}")
                    continue
                with override("zh-hans"):
                    chinese = str(text)
                with override("en"):
                    english = str(text)
                if chinese == english:
                    problems.append(f"{where}: no Chinese for {english!r}")
    return problems


@pytest.mark.django_db
def test_every_model_text_of_our_apps_has_chinese():
    problems = untranslated()
    assert not problems, f"{len(problems)} texts without Chinese:\n" + "\n".join(problems)


def test_permissions_read_chinese_on_a_groups_page(client, db, program):
    from django.contrib.auth.models import Group, User

    admin = User.objects.create_superuser("root", password="a long password 1")
    client.force_login(admin)
    group = Group.objects.get(name="Clerk")
    page = client.get(f"/admin/auth/group/{group.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "可以添加会员" in page  # Django's "Can add member", stored in English
    assert "可在店员限额内调整积分" in page  # a custom permission of the ledger
    assert "可以导出积分账本" in page  # one of the roles' own permissions (loyalty.roles), stored in English too
    assert "Can add member" not in page and "Can export the ledger" not in page
