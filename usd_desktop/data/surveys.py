"""Satisfaction surveys: how an answer is scored (the ``survey_response`` entity; CSAT in
:mod:`usd_desktop.data.kpi`)."""

from __future__ import annotations

#: The highest score a scale survey may have.
SCALE_MAX_LIMIT = 100
_YES, _NO = {"yes", "y", "1", "true"}, {"no", "n", "0", "false"}


def survey_score(kind: str, scale_max: int, raw: object) -> int:
    """The score ``raw`` (text or a number) of a survey of ``kind`` as stored: 1 to ``scale_max``
    for a ``scale``, 1 (yes) or 0 (no) for ``yes_no``. :class:`ValueError` says what fits."""
    text = str(raw).strip().casefold()
    if kind == "yes_no":
        if text in _YES or text in _NO:
            return 1 if text in _YES else 0
        raise ValueError(f"score {raw!r}: a yes/no survey takes yes (1) or no (0)")
    try:
        score = int(text)
    except ValueError:
        score = 0
    if not 1 <= score <= scale_max:
        raise ValueError(f"score {raw!r}: this survey's scale takes a whole number from 1 to {scale_max}")
    return score
