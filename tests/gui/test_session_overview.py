"""The Session Overview: the active session's name and overview lines, following the context."""

from __future__ import annotations

from tests.gui.support import close_shell, open_shell
from usd_desktop.hosted_controls.qt.session_overview import SessionOverviewControl
from usd_desktop.testing import until

CONFIG = """
name: Overview
hosted_controls:
  - {name: Global Manager, type: GlobalManager, panel: HiddenPanel}
  - {name: Overview, type: SessionOverview}
session_lines:
  - {name: Caller, order: 1, type: session_name, display: "[[contact.fullname]]"}
  - {name: Phone, order: 1, type: session_overview, display: "Phone: [[contact.phone]]"}
  - {name: Case, order: 2, type: session_overview, display: "Open case [[case.number]]"}
"""


async def test_the_overview_follows_the_active_session_and_its_context():
    desktop, window, host = await open_shell(CONFIG)
    control = desktop.instance("Overview")
    assert isinstance(control, SessionOverviewControl)
    assert window.layout_widget.panels["SessionExplorerPanel"].contains(control.widget())
    widget = control.overview_widget
    assert widget.placeholder.isVisible() and widget.placeholder.text() == "No customer session"
    assert not widget.title.isVisible() and widget.texts() == []

    ann = await desktop.create_session(context={"x": "1"})
    ann.store.update("contact", {"fullname": "Ann Smith", "phone": "+358 40 1"})
    await until(lambda: widget.title.text() == "Ann Smith", "the session's name")
    assert widget.title.font().bold() and not widget.placeholder.isVisible()
    assert widget.texts() == ["Phone: +358 40 1"]
    ann.store.set("case", "number", "CAS-7 <i>urgent</i>")
    await until(lambda: len(widget.texts()) == 2, "the case line")
    assert widget.texts() == ["Phone: +358 40 1", "Open case CAS-7 <i>urgent</i>"]
    assert widget.lines[1].objectName() == "overviewLine:Case" and widget.lines[1].wordWrap()

    bob = await desktop.create_session(name="Walk-in")
    assert widget.title.text() == "Walk-in" and widget.texts() == []
    ann.store.set("contact", "phone", "+358 40 2")  # a background session: not shown
    await until(lambda: "+358 40 2" in str(ann.view), "Ann's view")
    assert widget.texts() == []
    await desktop.switch_session(ann)
    assert widget.texts() == ["Phone: +358 40 2", "Open case CAS-7 <i>urgent</i>"]
    await desktop.close_session(ann)
    assert widget.title.text() == "Walk-in"
    await desktop.close_session(bob)
    assert widget.placeholder.isVisible() and widget.texts() == []

    await close_shell(desktop, window, host)
