"""Building blocks shared by the configuration models (:mod:`usd_desktop.config.schema` and the
``schema_*`` modules it imports): the frozen, strict base model and the constrained string types.

Import the models themselves from :mod:`usd_desktop.config.schema`, which re-exports these too.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

#: A path into the configuration, as pydantic reports it: ``("action_calls", 3, "condition")``.
DataPath = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
IDENTIFIER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _check_name(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("name", "a name must not be blank")
    if value != value.strip():
        raise PydanticCustomError("name", "a name must not start or end with whitespace")
    if "\n" in value or "\r" in value:
        raise PydanticCustomError("name", "a name must be a single line")
    return value


def _check_identifier(value: str) -> str:
    if not _IDENTIFIER.match(value):
        raise PydanticCustomError(
            "identifier",
            "{value} is not a logical name: use letters, digits and underscores, not starting with a digit",
            {"value": repr(value)},
        )
    return value


def _scalar_to_str(value: Any) -> Any:
    """Options, settings and resources are strings; accept YAML scalars and keep their text."""
    if isinstance(value, bool | int | float):
        return str(value)
    return value


#: A record name: non-empty, one line, no leading or trailing whitespace. Spaces inside are fine
#: (USD names such as ``Open Contact Page``).
Name = Annotated[str, StringConstraints(min_length=1), AfterValidator(_check_name)]

#: A logical name of an entity or a field (``contact``, ``telephone1``): letters, digits and
#: underscores, not starting with a digit. Searches use these as identifiers, never as SQL text.
Identifier = Annotated[
    str,
    AfterValidator(_check_identifier),
    WithJsonSchema({"type": "string", "pattern": IDENTIFIER_PATTERN}),
]

#: A string value that may be written as a bare YAML number or boolean.
ScalarStr = Annotated[
    str,
    BeforeValidator(_scalar_to_str),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
    )
