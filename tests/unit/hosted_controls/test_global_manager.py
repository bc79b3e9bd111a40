"""Global Manager actions, Qt-free, through the dispatcher with a recording host."""

from __future__ import annotations

from usd_desktop.core.trace import Outcome
from usd_desktop.hosted_controls.desktop import MemorySettings
from usd_desktop.testing import RecordingHost

CONFIG = """
name: GM
options: {maxNumberOfSessions: 3}
resources:
  en: {Welcome: "Welcome [[$User.firstname]]"}
  es: {Welcome: "Bienvenido"}
scriptlets:
  - {name: Twice, script: "[[$Context.n]+] * 2"}
hosted_controls:
  - {name: Global Manager, type: GlobalManager}
  - {name: Other, type: ConnectionManager, is_dynamic: true}
action_calls:
  - {name: Copy, control: Global Manager, action: CopyToContext, data: "n=21"}
  - {name: Message, control: Global Manager, action: DisplayMessage, data: "caption=Hi\\nHello [[$Global.maxNumberOfSessions]]"}
  - {name: Show, control: Global Manager, action: ShowTab, data: Other}
  - {name: ShowNothing, control: Global Manager, action: ShowTab, data: Nobody}
  - {name: Clip, control: Global Manager, action: CopyToClipboard, data: "[[$Resources.Welcome]]"}
  - {name: Launch, control: Global Manager, action: LaunchURL, data: "url=https://example.org/?q=[[$Context.n]u]"}
  - {name: LaunchFile, control: Global Manager, action: LaunchURL, data: "file:///etc/passwd"}
  - {name: Script, control: Global Manager, action: ExecuteScriptlet, data: Twice}
  - {name: Dark, control: Global Manager, action: SetTheme, data: dark}
  - {name: Bad theme, control: Global Manager, action: SetTheme, data: purple}
  - {name: About, control: Global Manager, action: ShowAbout}
  - {name: Save, control: Global Manager, action: SaveSetting, data: "name=Colour\\nvalue=blue"}
  - {name: Read, control: Global Manager, action: ReadSettings}
  - {name: Move, control: Global Manager, action: MoveToPanel, data: "app=Other\\npanel=RightPanel"}
"""


async def run(desktop, name):
    return await desktop.dispatcher.run_action_call(name)


async def test_global_manager_actions(desktop_factory):
    host = RecordingHost()
    settings = MemorySettings({"Existing": "1"})
    d = desktop_factory(CONFIG, host=host, settings=settings)
    await d.start()
    g = d.sessions.global_session.store
    assert (await run(d, "Copy")).outcome is Outcome.RAN
    await run(d, "Message")
    assert host.of("display_message") == [("Hello 3", "Hi")]
    assert (await run(d, "Show")).outcome is Outcome.RAN
    assert host.of("show_control") == [("Other",)]
    assert d.instance("Other") is not None  # the dynamic control was created on demand
    bad = await run(d, "ShowNothing")
    assert bad.outcome is Outcome.FAILED and "Nobody" in bad.reason
    await run(d, "Clip")
    assert host.of("copy_to_clipboard") == [("Welcome Tracie",)]  # $Resources are re-scanned
    await run(d, "Launch")
    assert host.of("launch_url") == [("https://example.org/?q=21",)]
    refused = await run(d, "LaunchFile")
    assert refused.outcome is Outcome.FAILED and "refuses" in refused.reason
    assert (await run(d, "Script")).result == "42"
    assert g.get("$Return", "Script") == "42"
    await run(d, "Dark")
    assert host.of("set_theme") == [("dark",)]
    assert g.get("$SystemParameters", "Theme") == "dark"
    assert (await run(d, "Bad theme")).outcome is Outcome.FAILED
    await run(d, "About")
    assert host.of("show_about") == [()]
    await run(d, "Save")
    assert settings.values["Colour"] == "blue" and g.get("$Settings", "Colour") == "blue"
    assert (await run(d, "Read")).result == "2"
    await run(d, "Move")
    assert host.of("move_to_panel") == [("Other", "RightPanel")]
    await d.shutdown()


async def test_desktop_seeds_the_system_sections(desktop_factory):
    d = desktop_factory(CONFIG, user={"firstname": "Ana"})
    g = d.sessions.global_session.store
    assert g.get("$Global", "maxNumberOfSessions") == "3"
    assert g.get("$User", "firstname") == "Ana"
    assert g.get("$Resources", "Welcome") == "Welcome [[$User.firstname]]"
    assert g.get("$SystemParameters", "HighContrast") == "false"
    assert g.get("$Session", "IsGlobal") == "true"


async def test_language_resources_fall_back_to_english(desktop_factory, qt_free_registry):
    from usd_desktop.config.loader import loads_configuration
    from usd_desktop.hosted_controls.desktop import Desktop

    d = Desktop(loads_configuration(CONFIG), host=RecordingHost(), registry=qt_free_registry,
                language="es-MX")
    assert d.sessions.global_session.store.get("$Resources", "Welcome") == "Bienvenido"


def test_resources_match_cultures_case_insensitively(qt_free_registry):
    from usd_desktop.config.loader import loads_configuration
    from usd_desktop.hosted_controls.desktop import Desktop

    text = CONFIG.replace('es: {Welcome: "Bienvenido"}', 'es: {Welcome: "Bienvenido"}\n  fr-CA: {Welcome: "Bienvenue"}')
    d = Desktop(loads_configuration(text), host=RecordingHost(), registry=qt_free_registry,
                language="fr_CA")
    assert d.sessions.global_session.store.get("$Resources", "Welcome") == "Bienvenue"


async def test_create_and_close_customer_sessions(desktop_factory):
    d = desktop_factory(CONFIG.replace("action_calls:", """action_calls:
  - {name: New, control: Global Manager, action: CreateSession, data: "name=Contoso"}
  - {name: NewBg, control: Global Manager, action: CreateSession, data: "BackGround=true"}
  - {name: Close, control: Global Manager, action: CloseSession}
  - {name: Seen, control: Global Manager, action: CopyToContext, data: "new=[[SessionId]]"}"""
    ).replace("events: []", "") + """events:
  - {control: Global Manager, name: SessionNew, action_calls: [Seen]}
""")
    first = await d.dispatcher.run_action_call("New")
    session = d.sessions.get(first.result)
    assert session is not None and d.sessions.active is session and session.name == "Contoso"
    assert session.store.get("$Context", "new") == session.id  # SessionNew ran in the new session
    background = await d.dispatcher.run_action_call("NewBg")
    assert d.sessions.active is session and d.sessions.get(background.result) is not None
    for _ in range(2):
        await d.dispatcher.run_action_call("New")
    limited = await d.dispatcher.run_action_call("New")  # maxNumberOfSessions is 3
    assert limited.outcome.value == "failed" and "3 customer session(s) are open" in limited.reason
    await d.dispatcher.run_action_call("Close")
    assert len(d.sessions.customer_sessions) == 2
    assert d.dispatcher.journal.find(kind="event", name="SessionClosed")
