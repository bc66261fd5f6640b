from __future__ import annotations

import pytest

from cxbot.enrich.identity import normalise_email, normalise_handle


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe+Shop@Example.COM ", "jane.doe+shop@example.com"),
        ("a@b.co", "a@b.co"),
        ("first.last@sub.example.org", "first.last@sub.example.org"),
        ("ali@خبر.ایران", "ali@خبر.ایران"),
        ("user@example.xn--p1ai", "user@example.xn--p1ai"),
        (None, None),
        ("", None),
        ("   ", None),
        ("not an email", None),
        ("jane@", None),
        ("@example.com", None),
        ("jane@example", None),
        ("jane@@example.com", None),
        ("jane doe@example.com", None),
        ("Jane <jane@example.com>", None),
        ("jane..doe@example.com", None),
        (".jane@example.com", None),
        ("jane.@example.com", None),
        ("jane@-example.com", None),
        ("jane@example..com", None),
        ("jane@example.c", None),
    ],
)
def test_normalise_email(raw: str | None, expected: str | None) -> None:
    assert normalise_email(raw) == expected


def test_distinct_addresses_never_merge() -> None:
    emails = ["jane.doe@gmail.com", "janedoe@gmail.com", "jane.doe+shop@gmail.com"]
    assert len({normalise_email(e) for e in emails}) == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("@AcmeSupport", "acmesupport"),
        ("  @@Jane_Doe ", "jane_doe"),
        ("plain", "plain"),
        ("@", None),
        ("  ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_handle(raw: str | None, expected: str | None) -> None:
    assert normalise_handle(raw) == expected
