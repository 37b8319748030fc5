import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_staff_can_sign_in_to_the_admin(live_server, page, django_user_model):
    django_user_model.objects.create_superuser("boss", "boss@example.com", "a long password 1")
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill("a long password 1")
    page.get_by_role("button", name="Log in").click()
    page.locator("#nav-sidebar").get_by_text("boss", exact=True).click()  # the user's menu, at the sidebar's foot
    page.get_by_role("link", name="Log out").or_(page.get_by_role("button", name="Log out")).wait_for()
    assert "/admin/login" not in page.url
