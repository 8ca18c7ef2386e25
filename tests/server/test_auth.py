"""The admin token check: 401 without credentials, 403 with wrong ones, compared in constant time."""

from __future__ import annotations

import hmac

import pytest
from starlette.requests import Request

from server import auth
from server.errors import AdminDisabled, Forbidden, Unauthorized

TOKEN = "s3cret-admin-token"


def request_with(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers})


def test_the_right_bearer_token_passes():
    auth.require_admin(request_with(f"Bearer {TOKEN}"), TOKEN)


@pytest.mark.parametrize("header", [None, "", "Basic abc", TOKEN])
def test_no_bearer_credentials_is_401(header):
    with pytest.raises(Unauthorized) as refused:
        auth.require_admin(request_with(header), TOKEN)
    assert refused.value.headers() == {"WWW-Authenticate": "Bearer"}


@pytest.mark.parametrize("offered", ["wrong", TOKEN[:-1], TOKEN + "x", ""])
def test_a_wrong_bearer_token_is_403(offered):
    with pytest.raises(Forbidden) as refused:
        auth.require_admin(request_with(f"Bearer {offered}"), TOKEN)
    assert not isinstance(refused.value, AdminDisabled)


def test_no_configured_token_switches_writes_off():
    with pytest.raises(AdminDisabled):
        auth.require_admin(request_with(f"Bearer {TOKEN}"), None)


def test_the_token_is_compared_with_hmac_compare_digest(monkeypatch):
    calls = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    with pytest.raises(Forbidden):
        auth.require_admin(request_with("Bearer guess"), TOKEN)
    assert calls == [(b"guess", TOKEN.encode())]
