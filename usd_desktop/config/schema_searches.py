"""Entity searches: declarative queries on one entity (usd-reference §6.3).

USD writes a search as FetchXML text with replacement parameters inside. Here a search is data:
an entity, filters, sort keys and columns, all logical names. Filter values may contain
replacement parameters; the runtime binds the rendered values as query parameters and never
builds query text from them. A CTI search (:class:`~usd_desktop.config.schema_navigation.CtiSearch`)
has the same shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from usd_desktop.config.schema_types import Identifier, Name, _Model


def _null_operator(value: Any) -> Any:
    # ``operator: null`` written without quotes reads as YAML null: it means the operator "null".
    return "null" if value is None else value


Operator = Annotated[
    Literal["eq", "ne", "lt", "le", "gt", "ge", "like", "begins_with", "contains", "in", "null", "not_null"],
    BeforeValidator(_null_operator),
]


class SearchFilter(_Model):
    """One condition of a search: a field compared with a value."""

    field: Identifier = Field(
        description="Logical name of the field (attribute) compared, e.g. `telephone1`."
    )
    operator: Operator = Field(
        default="eq",
        description="How the field is compared: `eq`, `ne`, `lt`, `le`, `gt`, `ge`; `like` (a "
        "pattern with `%` and `_`), `begins_with`, `contains`; `in` (a comma-separated list); "
        "`null` and `not_null` (which ignore `value`).",
    )
    value: str = Field(
        default="",
        description="The value compared with; may contain replacement parameters "
        "(`[[cti.ani]]`), bound as query parameters after replacement, never pasted into a query.",
    )


class SortKey(_Model):
    """One sort key of a search's results."""

    field: Identifier = Field(description="Logical name of the field sorted on.")
    descending: bool = Field(default=False, description="Sort from highest to lowest.")


class SearchBase(_Model):
    """What an entity search and a CTI search have in common."""

    name: Name = Field(
        description="Name, unique among the entity searches (a CTI search: among its rule's searches)."
    )
    entity: Identifier = Field(description="Logical name of the entity searched, e.g. `contact`.")
    filters: list[SearchFilter] = Field(
        default_factory=list, description="The conditions; none returns every record (up to `max_count`)."
    )
    match: Literal["all", "any"] = Field(
        default="all", description="`all`: a record must meet every filter (and); `any`: at least one (or)."
    )
    columns: list[Identifier] = Field(
        default_factory=list,
        description="Logical names of the fields returned; return only what you need. "
        "Empty: the entity's primary key and primary name.",
    )
    max_count: int = Field(
        default=50,
        ge=1,
        description="Most records returned per page (USD `EntitySearchPageCount`, 50).",
    )


class EntitySearch(SearchBase):
    """An entity search (USD Entity Search): run by `DoSearch` and by window navigation rules."""

    order_by: list[SortKey] = Field(default_factory=list, description="Sort keys, most significant first.")
    description: str = Field(default="", description="Free text for administrators.")
