"""Session lines (USD Session Information, usd-reference §1.1 and §6.0).

The session tab's label is the ``display`` of the first ``session_name`` line (by ``order``) whose
replacement parameters all resolve; the overview area stacks every ``session_overview`` line whose
parameters resolve.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from usd_desktop.config.schema_types import Identifier, Name, _Model


class SessionLine(_Model):
    """A session line: the session tab's name or a line of the session overview."""

    name: Name = Field(description="Unique name.")
    order: int = Field(
        default=0, description="Lines are tried (names) or stacked (overview) by ascending order."
    )
    type: Literal["session_name", "session_overview"] = Field(
        description="`session_name`: a candidate label for the session tab; `session_overview`: "
        "a line of the session overview."
    )
    entity: Identifier | None = Field(
        default=None,
        description="The entity the line applies to (USD Selected Entity): used only in "
        "sessions of that entity; unset: any session.",
    )
    display: str = Field(
        description="The text, with replacement parameters (`[[account.name]] ([[account.accountnumber]])`); "
        "a line whose parameters do not all resolve is not shown."
    )
    description: str = Field(default="", description="Free text for administrators.")
