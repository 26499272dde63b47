"""Every API path is reachable: no literal path is shadowed by a parameterised one."""

from __future__ import annotations

from django.urls import resolve

from kvcredit.api.api import api


def test_no_literal_api_path_is_taken_by_a_path_with_a_parameter():
    shadowed = []
    for path in api.get_openapi_schema()["paths"]:
        if "{" not in path and "<" in resolve(path).route:
            shadowed.append((path, resolve(path).route))
    assert shadowed == []
