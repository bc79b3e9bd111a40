"""The configuration reference is generated; the committed copy must match."""

from __future__ import annotations

from pathlib import Path

from usd_desktop.config.lint import CODES, lint
from usd_desktop.config.loader import loads_configuration
from usd_desktop.config.reference import EXAMPLE, render_reference
from usd_desktop.config.schema import MODELS

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "configuration-reference" / "README.md"


def test_committed_reference_is_up_to_date() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == render_reference(), (
        "docs/configuration-reference/README.md is stale: run "
        "`usd-admin reference > docs/configuration-reference/README.md`"
    )


def test_reference_covers_every_model_field_and_code() -> None:
    text = render_reference()
    for model in MODELS:
        assert f"## {model.__name__}\n" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text
    for code in CODES:
        assert f"| {code} |" in text
    assert "](replacement-parameters.md)" in text
    assert "| `sort_order` | integer | `100` |" in text
    assert "| `shortcut` | text or null | `null` |" in text
    assert "| `buttons` | list of [ToolbarButton](#toolbarbutton) | `[]` |" in text


def test_the_example_loads_and_is_clean() -> None:
    assert lint(loads_configuration(EXAMPLE)) == []
    assert EXAMPLE in render_reference()
