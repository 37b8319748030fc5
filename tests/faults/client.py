"""A shop's HTTP client for the fault tests (the standard library's, so a timeout is a real socket timeout)."""

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict

    @property
    def code(self) -> str:
        return (self.body.get("error") or {}).get("code", "") if isinstance(self.body, dict) else ""


class Api:
    def __init__(self, url: str, key: str, server=None) -> None:
        self.url, self.key, self.server = url, key, server

    def call(self, method: str, path: str, body: dict | None = None, *, key: str | None = None,
             timeout: float = 30) -> Answer:
        headers = {"Authorization": f"Api-Key {self.key}", "Accept": "application/json"}
        data = None
        if method != "GET":
            headers["Idempotency-Key"] = key or uuid.uuid4().hex
            headers["Content-Type"] = "application/json"
            data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                parsed = json.loads(raw or b"{}")
            except ValueError:
                parsed = {"raw": raw.decode(errors="replace")[:500]}
            return Answer(error.code, dict(error.headers), parsed)

    def post(self, path: str, body: dict, *, key: str | None = None, timeout: float = 30) -> Answer:
        return self.call("POST", path, body, key=key, timeout=timeout)

    def get(self, path: str) -> Answer:
        return self.call("GET", path)
