"""Phone normalisation to E.164: examples and properties."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usd_desktop.data.phones import normalise, normalise_or_raw

REGIONS = ["FI", "RO", "CN", "US", "GB", "SE", "DE", "FR", "IN", "BR"]
FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("+358 40 123 4567", "US", "+358401234567"),
        ("040 123 4567", "FI", "+358401234567"),
        ("00358401234567", "US", "+358401234567"),
        ("0721 234 567", "RO", "+40721234567"),
        ("138 1234 5678", "CN", "+8613812345678"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("07400 123456", "GB", "+447400123456"),
        ("12", "US", None),
        ("", "US", None),
        ("hello", "US", None),
        ("+999 123", "US", None),
    ],
)
def test_examples(number: str, region: str, expected: str | None) -> None:
    assert normalise(number, region) == expected


def test_normalise_or_raw_keeps_digits_of_invalid_numbers() -> None:
    assert normalise_or_raw("+358 40 123 4567") == "+358401234567"
    assert normalise_or_raw("12-34") == "1234" and normalise_or_raw("+12 34") == "+1234"


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[phonenumbers.PhoneNumber, str]:
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    )
    example = phonenumbers.example_number_for_type(region, kind)
    assert example is not None
    national = str(example.national_number)
    keep = max(3, len(national) - 4)
    tail = draw(st.text(alphabet="0123456789", min_size=len(national) - keep, max_size=len(national) - keep))
    number = phonenumbers.parse(f"+{example.country_code}{national[:keep]}{tail}")
    return number, region


@given(valid_numbers(), st.sampled_from(REGIONS))
@settings(max_examples=300, deadline=None)
def test_formatting_variants_normalise_equal(
    found: tuple[phonenumbers.PhoneNumber, str], default: str
) -> None:
    number, region = found
    if not phonenumbers.is_valid_number(number):
        return
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    variants = [phonenumbers.format_number(number, style) for style in FORMATS]
    variants += ["00" + e164[1:], e164.replace("+", "+ ", 1)]
    for variant in variants:
        assert normalise(variant, default) == e164, variant
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert normalise(national, region) == e164


@given(st.text(max_size=80), st.sampled_from([*REGIONS, "", "ZZ", "xx"]))
@settings(max_examples=500, deadline=None)
def test_garbage_never_raises_and_is_idempotent(text: str, region: str) -> None:
    result = normalise(text, region)
    assert result is None or (result.startswith("+") and result[1:].isdigit())
    if result is not None:
        assert normalise(result, region) == result
        assert normalise(result, "US") == result


@given(st.text(alphabet="0123456789 +-()./", max_size=25), st.sampled_from(REGIONS))
@settings(max_examples=500, deadline=None)
def test_phone_like_text_is_idempotent(text: str, region: str) -> None:
    result = normalise(text, region)
    if result is not None:
        assert normalise(result, region) == result
