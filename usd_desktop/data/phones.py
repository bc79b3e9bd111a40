"""Phone numbers normalised to E.164 (``+358401234567``) with :mod:`phonenumbers`."""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "US"


def normalise(number: str, default_region: str = DEFAULT_REGION) -> str | None:
    """``number`` in E.164, or ``None`` when it is not a valid phone number.

    A number without a country code is read in ``default_region`` (ISO 3166 code); a number
    written with ``+`` or the region's international prefix keeps its own country, and so does one
    written with ``00`` (the international prefix of most of the world) when it is not valid as read.
    """
    if not isinstance(number, str) or not number.strip() or len(number) > 64:
        return None
    region = (default_region or DEFAULT_REGION).upper()
    found = _parse(number, region)
    if found is None and number.strip().startswith("00"):  # 00 as the international prefix anywhere
        found = _parse("+" + number.strip()[2:], region)
    return found


def _parse(number: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_or_raw(number: str, default_region: str = DEFAULT_REGION) -> str:
    """The E.164 form when ``number`` is valid, else its digits (with a leading ``+`` kept)."""
    e164 = normalise(number, default_region)
    if e164 is not None:
        return e164
    digits = "".join(ch for ch in number if ch.isdigit())
    return ("+" + digits) if number.strip().startswith("+") else digits
