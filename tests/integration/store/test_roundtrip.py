"""Writing a configuration's rows and reading them back gives an equal configuration."""

from __future__ import annotations

import datetime
import os
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from usd_desktop.config.loader import dump_configuration, loads_configuration
from usd_desktop.config.schema import Configuration
from usd_desktop.config.store import ConfigStore, StoreError
from usd_desktop.config.store import content as store_content
from usd_desktop.config.store.content import content_hash, content_rows, read_content, write_content
from usd_desktop.config.store.tables import configuration_versions, configurations


def test_the_starter_configuration_round_trips(store: ConfigStore, starter: Configuration) -> None:
    info = store.import_configuration(starter, actor="admin")
    draft = store.draft("Starter")
    assert draft == starter
    assert dump_configuration(draft) == dump_configuration(starter)
    assert info.content_hash == content_hash(starter)
    published = store.publish("Starter", actor="admin")
    config, loaded = store.load("Starter")
    assert config == starter and loaded == published
    assert loaded.content_hash == content_hash(starter)


def test_order_of_records_and_mappings_is_kept(store: ConfigStore) -> None:
    config = loads_configuration(
        """
name: Order
options: {zeta: "1", alpha: "2", mid: "3"}
resources:
  fr: {b: B, a: A}
  en: {z: Z}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
scriptlets:
  - {name: Zed, script: "1"}
  - {name: Alpha, script: "2"}
"""
    )
    store.import_configuration(config, actor="admin")
    draft = store.draft("Order")
    assert draft is not None
    assert list(draft.options) == ["zeta", "alpha", "mid"]
    assert list(draft.resources) == ["fr", "en"] and list(draft.resources["fr"]) == ["b", "a"]
    assert [s.name for s in draft.scriptlets] == ["Zed", "Alpha"]
    assert dump_configuration(draft) == dump_configuration(config)


@pytest.mark.parametrize(
    ("settings_value", "problem"),
    [
        ({"when": datetime.date(2024, 1, 1)}, "is not text, a number"),
        ({"x": "a\x00b"}, "NUL"),
        ({"x": float("nan")}, "not a finite number"),
        ({"x": "\ud800"}, "surrogate"),
    ],
)
def test_values_the_database_cannot_keep_are_refused(
    store: ConfigStore, settings_value: dict[str, Any], problem: str
) -> None:
    config = Configuration(
        name="Bad",
        hosted_controls=[{"name": "Global Manager", "type": "GlobalManager", "settings": settings_value}],  # type: ignore[list-item]
    )
    with pytest.raises(StoreError, match=problem) as info:
        store.import_configuration(config, actor="admin")
    assert "hosted_controls[0] 'Global Manager' field settings" in str(info.value)
    assert store.configurations() == []


def test_whole_numbers_beyond_64_bits_are_refused(store: ConfigStore) -> None:
    config = Configuration(
        name="Big",
        hosted_controls=[{"name": "Global Manager", "type": "GlobalManager", "sort_order": 2**70}],  # type: ignore[list-item]
    )
    with pytest.raises(StoreError, match="does not fit in 64 bits"):
        store.import_configuration(config, actor="admin")


# ---------------------------------------------------------------------- generated configurations
_NAME_CHARS = st.characters(
    codec="utf-8", exclude_characters="\x00\r\n\x85\u2028\u2029", exclude_categories=("Cs", "Zl", "Zp")
)
_names = st.text(_NAME_CHARS, min_size=1, max_size=12).map(str.strip).filter(bool)
_texts = st.text(
    st.characters(codec="utf-8", exclude_characters="\x00", exclude_categories=("Cs",)), max_size=30
)
_identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _texts
)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=8,
)


def _strategy(annotation: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values for a schema annotation (generic: works for fields added later)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *meta = get_args(annotation)
        text = repr(meta)
        if "identifier" in text.lower() or "pattern" in text:
            return _identifiers
        if base is str:
            return _names
        return _strategy(base, depth)
    if origin in (Union, types.UnionType):
        return st.one_of(*(_strategy(a, depth) for a in get_args(annotation)))
    if origin is Literal:
        return st.sampled_from(get_args(annotation))
    if origin is list:
        if depth > 2:  # recursive models (a button's drop-down buttons) stop here
            return st.just([])
        return st.lists(_strategy(get_args(annotation)[0], depth + 1), max_size=3)
    if origin is dict:
        key, value = get_args(annotation)
        return st.dictionaries(_strategy(key), _json if value is Any else _strategy(value, depth), max_size=3)
    if annotation is type(None):
        return st.none()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-(2**63), 2**63 - 1)
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if annotation is str:
        return _texts
    if annotation is Any:
        return _json
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _model(annotation, depth)
    raise AssertionError(f"no strategy for {annotation!r}")


def _model(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    fields = model.model_fields.items()
    required = {n: _strategy(f.annotation, depth) for n, f in fields if f.is_required()}
    optional = {n: _strategy(f.annotation, depth) for n, f in fields if not f.is_required()}
    return st.fixed_dictionaries(required, optional=optional)


def _valid(data: dict[str, Any]) -> Configuration | None:
    try:
        return Configuration.model_validate(data)
    except ValidationError:
        return None


configurations_strategy = _model(Configuration).map(_valid).filter(lambda c: c is not None)


@pytest.fixture
def version_id(store: ConfigStore) -> int:
    """An empty draft row to write generated content into (the rows bypass lint on purpose)."""
    engine: sa.Engine = store._engine
    with engine.begin() as conn:
        config_id = conn.execute(
            configurations.insert().values(
                name="Generated",
                description="",
                is_default=False,
                created_at=datetime.datetime.now(datetime.UTC),
                created_by="test",
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        return int(
            conn.execute(
                configuration_versions.insert().values(
                    configuration_id=config_id,
                    number=0,
                    state="draft",
                    content_hash="",
                    message="",
                    created_at=datetime.datetime.now(datetime.UTC),
                    created_by="test",
                )
            ).inserted_primary_key[0]
        )  # type: ignore[index]


@settings(
    max_examples=int(os.environ.get("USD_HYPOTHESIS_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=configurations_strategy)
def test_generated_configurations_round_trip(
    store: ConfigStore, version_id: int, config: Configuration
) -> None:
    with store._engine.begin() as conn:
        store_content.delete_content(conn, version_id)
        write_content(conn, version_id, content_rows(config))
        back = read_content(conn, version_id)
    assert back == config
    assert content_hash(back) == content_hash(config)
