"""Driving django-import-export's admin pages as staff do: upload, preview, confirm; export a list."""

import csv
import io

from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

CSV, XLSX = "0", "1"  # the formats' places in the admin's format list


def staff(role: str) -> User:
    user = User.objects.create_user(role.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def preview(client, list_url: str, text: str, *, name: str = "file.csv", **headers):
    upload = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    response = client.post(f"{list_url}import/", {"format": CSV, "resource": "0", "import_file": upload}, **headers)
    assert response.status_code == 200
    return response


def confirm(client, list_url: str, page, **kwargs):
    form = page.context["confirm_form"]
    data = {name: form.initial[name] for name in ("import_file_name", "original_file_name", "format", "resource")}
    return client.post(f"{list_url}process_import/", data, **kwargs)


def export(client, list_url: str, resource, *, file_format: str = CSV, query: str = "") -> list[list]:
    """Export with every column of `resource` chosen; the rows (header first) parsed back."""
    data = {"format": file_format, "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()})
    response = client.post(f"{list_url}export/{query}", data)
    assert response.status_code == 200, response.content[:500]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if file_format == XLSX:
        sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
        return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
