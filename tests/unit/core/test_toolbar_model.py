"""The toolbar view-model: visible and enable conditions, dependencies, overrides."""

from __future__ import annotations

from usd_desktop.config.loader import loads_configuration
from usd_desktop.core.context import Sessions
from usd_desktop.core.toolbar import ToolbarModel

CONFIG = loads_configuration("""
name: T
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Bar, type: ToolbarContainer}
toolbars:
  - name: Main
    container: Bar
    buttons:
      - {name: Save, text: "Save [[account.name]+]", order: 2, enable_condition: '"[[account.name]+]" != ""'}
      - {name: Admin, order: 1, visible_condition: '"[[$User.role]+]" == "admin"'}
      - name: More
        order: 3
        buttons:
          - {name: Child, text: Child, enable_condition: "false"}
""")


def make():
    sessions = Sessions()
    model = ToolbarModel(CONFIG.toolbars, lambda: sessions.data_for(sessions.active))
    return sessions, model, CONFIG.toolbars[0]


def test_states_follow_conditions_and_context():
    sessions, model, bar = make()
    save, admin = model.find("Save")[0][1], model.find("Admin")[0][1]
    assert [b.name for b in model.walk(bar)] == ["Admin", "Save", "More", "Child"]
    assert model.state(bar, save).enabled is False
    assert model.state(bar, save).text == "Save "
    assert model.state(bar, admin).visible is False
    seen = []
    sessions.changed.connect(lambda c: seen.extend(model.invalidate(c)))
    sessions.global_session.store.set("account", "name", "Contoso")
    assert ("Main", "Save") in seen and ("Main", "Admin") not in seen  # only what it reads
    assert model.state(bar, save).enabled is True
    assert model.state(bar, save).text == "Save Contoso"


def test_runtime_overrides():
    _, model, bar = make()
    child = model.find("Child")[0][1]
    assert model.state(bar, child).enabled is False
    assert model.force_enabled("Child", True) == 1
    assert model.state(bar, child).enabled is True
    assert model.force_enabled("Nobody", True) == 0
    model.hidden_toolbars.add("Main")
    assert model.toolbar_visible(bar) is False
