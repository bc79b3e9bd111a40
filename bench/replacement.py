"""Replacement-parameter renders per second, against string.Template on the same text."""

from __future__ import annotations

import string
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rate

from usd_desktop.core import replacement

TEMPLATE = (
    "https://crm.example/main.aspx?etn=account&id=[[account.accountid]u]&name=[[account.name]u+]"
    "&agent=[[$User.firstname]]&case=[[incident.title]x+]&ani=[[cti.ani]+]&s=[[$Session.Id]g]"
)
DATA = {
    "session": {
        "account": {"accountid": "{6F1B1C43-4B61-E811-A95A-000D3A1D7E36}", "name": "A. Datum & Co"},
        "incident": {"title": "Router <offline>"},
        "cti": {"ani": "+15551234567"},
    },
    "global": {"$User": {"firstname": "Tracie"}, "$Session": {"Id": "g-1"}},
}
BASELINE = string.Template(
    "https://crm.example/main.aspx?etn=account&id=${id}&name=${name}&agent=${agent}&case=${case}"
    "&ani=${ani}&s=${s}"
)
VALUES = {"id": "x", "name": "y", "agent": "z", "case": "c", "ani": "a", "s": "s"}


def main() -> None:
    ours = rate(lambda: replacement.render(TEMPLATE, DATA))
    base = rate(lambda: BASELINE.substitute(VALUES))
    print(f"replacement.render      : {ours:12,.0f} renders/s  (7 tokens, u/x/+/g flags)")
    print(f"string.Template baseline: {base:12,.0f} renders/s")
    print(f"ratio (baseline / ours) : {base / ours:8.2f}x slower than plain substitution")


if __name__ == "__main__":
    main()
