"""The dispatcher: events, order, conditions, missing parameters, $Return, sub-calls, loops, monikers."""

from __future__ import annotations

import asyncio

from usd_desktop.core.trace import Outcome

BASE = """
name: Test
hosted_controls:
  - {name: Global Manager, type: GlobalManager, sort_order: 2}
  - {name: Connection Manager, type: ConnectionManager, sort_order: 1}
"""


def config(action_calls: str, events: str = "events: []") -> str:
    return BASE + "action_calls:\n" + action_calls + "\n" + events + "\n"


async def test_desktop_ready_runs_event_calls_in_order(desktop_factory):
    d = desktop_factory(config(
        """
  - {name: Second, control: Global Manager, action: CopyToContext, order: 2, data: "b=2"}
  - {name: First, control: Global Manager, action: CopyToContext, order: 1, data: "a=[[$User.firstname]]"}
""",
        "events:\n  - {control: Global Manager, name: DesktopReady, action_calls: [Second, First]}",
    ))
    await d.start()
    names = [r.name for r in d.dispatcher.journal if r.kind == "action_call"]
    assert names == ["First", "Second"]
    assert d.sessions.global_session.store.section("$Context") == {"a": "Tracie", "b": "2"}
    event = d.dispatcher.journal.find(kind="event", name="DesktopReady")[0]
    assert event.outcome is Outcome.FIRED
    assert all(r.parent == event.seq for r in d.dispatcher.journal if r.kind == "action_call")
    await d.shutdown()


async def test_condition_false_skips_and_true_runs(desktop_factory):
    d = desktop_factory(config("""
  - {name: Skip, control: Global Manager, action: CopyToContext, data: "x=1", condition: '"[[$User.firstname]]" == "Bob"'}
  - {name: Run, control: Global Manager, action: CopyToContext, data: "y=1", condition: '"12" > 9'}
  - {name: Throws, control: Global Manager, action: CopyToContext, data: "z=1", condition: 'nosuchfunction()'}
"""))
    skip = await d.dispatcher.run_action_call("Skip")
    run = await d.dispatcher.run_action_call("Run")
    throws = await d.dispatcher.run_action_call("Throws")
    assert skip.outcome is Outcome.SKIPPED and "false" in skip.reason
    assert skip.record is not None and skip.record.condition == '"Tracie" == "Bob"'
    assert run.outcome is Outcome.RAN
    assert throws.outcome is Outcome.SKIPPED and "threw" in throws.reason
    assert d.sessions.global_session.store.section("$Context") == {"y": "1"}


async def test_missing_parameter_aborts_whole_call_and_its_sub_calls(desktop_factory):
    d = desktop_factory(config("""
  - name: Parent
    control: Global Manager
    action: CopyToContext
    data: |
      ok=1
      name=[[account.name]]
    sub_action_calls: [Child]
  - {name: Child, control: Global Manager, action: CopyToContext, data: "child=1"}
  - {name: Tolerant, control: Global Manager, action: CopyToContext, data: "name=[[account.name]+]"}
"""))
    outcome = await d.dispatcher.run_action_call("Parent")
    assert outcome.outcome is Outcome.ABORTED
    assert "Not all parameters in action call Parent are available" in outcome.reason
    assert "[[account.name]]" in outcome.reason
    assert d.sessions.global_session.store.section("$Context") == {}
    assert not d.dispatcher.journal.find(name="Child")
    tolerant = await d.dispatcher.run_action_call("Tolerant")
    assert tolerant.outcome is Outcome.RAN
    assert d.sessions.global_session.store.get("$Context", "name") == ""


async def test_missing_parameter_in_condition_aborts(desktop_factory):
    d = desktop_factory(config("""
  - {name: C, control: Global Manager, action: CopyToContext, data: "x=1", condition: '"[[nope.x]]" == ""'}
"""))
    outcome = await d.dispatcher.run_action_call("C")
    assert outcome.outcome is Outcome.ABORTED


async def test_return_values_chain_into_later_calls(desktop_factory):
    d = desktop_factory(config("""
  - {name: Count, control: Global Manager, action: ReadSettings}
  - {name: Use, control: Global Manager, action: CopyToContext, data: "n=[[$Return.Count]]", condition: '[[$Return.Count]] >= 0'}
""", "events:\n  - {control: Global Manager, name: Go, action_calls: [Count, Use]}"))
    await d.dispatcher.fire_event("Global Manager", "Go")
    assert d.sessions.global_session.store.get("$Return", "Count") == "0"
    assert d.sessions.global_session.store.get("$Context", "n") == "0"


async def test_fire_event_passes_bare_parameters(desktop_factory):
    d = desktop_factory(config("""
  - name: Raise
    control: Global Manager
    action: FireEvent
    data: |
      name=MyEvent
      var1=[[$User.firstname]]
  - {name: Handle, control: Global Manager, action: CopyToContext, data: "got=[[var1]]"}
""", "events:\n  - {control: Global Manager, name: MyEvent, action_calls: [Handle]}"))
    await d.dispatcher.run_action_call("Raise")
    assert d.sessions.global_session.store.get("$Context", "got") == "Tracie"
    event = d.dispatcher.journal.find(kind="event", name="MyEvent")[0]
    assert event.parameters == {"var1": "Tracie"}


async def test_an_event_loop_in_the_configuration_stops_with_a_clear_error(desktop_factory):
    d = desktop_factory(config("""
  - {name: Ping, control: Global Manager, action: FireEvent, data: "name=Pong"}
  - {name: Pong, control: Global Manager, action: FireEvent, data: "name=Ping"}
""", """events:
  - {control: Global Manager, name: Ping, action_calls: [Ping]}
  - {control: Global Manager, name: Pong, action_calls: [Pong]}"""))
    await asyncio.wait_for(d.dispatcher.fire_event("Global Manager", "Ping"), 5)
    failed = d.dispatcher.journal.find(outcome=Outcome.FAILED)
    assert failed, "the loop guard must record a failure"
    assert "levels deep" in failed[0].reason and "Ping" in failed[0].reason


async def test_sub_action_call_cycle_is_stopped(desktop_factory):
    d = desktop_factory(config("""
  - {name: A, control: Global Manager, action: CopyToContext, data: "a=1", sub_action_calls: [B]}
  - {name: B, control: Global Manager, action: CopyToContext, data: "b=1", sub_action_calls: [A]}
"""))
    await asyncio.wait_for(d.dispatcher.run_action_call("A"), 5)
    assert d.dispatcher.journal.find(outcome=Outcome.FAILED)


async def test_unknown_control_action_and_call_fail_with_names(desktop_factory):
    d = desktop_factory(config("""
  - {name: NoControl, control: Nobody, action: CopyToContext, data: "a=1"}
  - {name: NoAction, control: Global Manager, action: Teleport}
"""))
    a = await d.dispatcher.run_action_call("NoControl")
    b = await d.dispatcher.run_action_call("NoAction")
    c = await d.dispatcher.run_action_call("Nothing")
    assert a.outcome is Outcome.FAILED and "Nobody" in a.reason
    assert b.outcome is Outcome.FAILED and "Teleport" in b.reason
    assert c.outcome is Outcome.FAILED and "Nothing" in c.reason


async def test_action_names_are_case_insensitive(desktop_factory):
    d = desktop_factory(config("""
  - {name: Lower, control: Global Manager, action: copytocontext, data: "a=1"}
"""))
    assert (await d.dispatcher.run_action_call("Lower")).outcome is Outcome.RAN


async def test_execute_on_timeout_defers_sub_calls(desktop_factory):
    d = desktop_factory(config("""
  - {name: Later, control: Global Manager, action: ExecuteOnTimeout, data: "milliseconds=30", sub_action_calls: [Mark]}
  - {name: Mark, control: Global Manager, action: CopyToContext, data: "done=1"}
"""))
    outcome = await d.dispatcher.run_action_call("Later")
    assert outcome.outcome is Outcome.DEFERRED
    assert d.sessions.global_session.store.get("$Context", "done") is None
    for _ in range(200):
        if d.sessions.global_session.store.get("$Context", "done"):
            break
        await asyncio.sleep(0.01)
    assert d.sessions.global_session.store.get("$Context", "done") == "1"


async def test_execute_on_data_available_waits_for_the_parameter(desktop_factory):
    d = desktop_factory(config("""
  - name: Wait
    control: Global Manager
    action: ExecuteOnDataAvailable
    data: |
      milliseconds=5000
      [[$Context.ready]]
    sub_action_calls: [Use]
  - {name: Use, control: Global Manager, action: CopyToContext, data: "seen=[[$Context.ready]]"}
"""))
    assert (await d.dispatcher.run_action_call("Wait")).outcome is Outcome.DEFERRED
    await asyncio.sleep(0.02)
    assert d.sessions.global_session.store.get("$Context", "seen") is None
    d.sessions.global_session.store.set("$Context", "ready", "yes")
    for _ in range(200):
        if d.sessions.global_session.store.get("$Context", "seen"):
            break
        await asyncio.sleep(0.01)
    assert d.sessions.global_session.store.get("$Context", "seen") == "yes"


async def test_execute_on_data_available_gives_up_after_its_timeout(desktop_factory):
    d = desktop_factory(config("""
  - name: Wait
    control: Global Manager
    action: ExecuteOnDataAvailable
    data: |
      milliseconds=40
      [[$Context.never]]
    sub_action_calls: [Use]
  - {name: Use, control: Global Manager, action: CopyToContext, data: "x=1"}
"""))
    await d.dispatcher.run_action_call("Wait")
    for _ in range(200):
        if d.dispatcher.journal.find(outcome=Outcome.ABANDONED):
            break
        await asyncio.sleep(0.01)
    abandoned = d.dispatcher.journal.find(outcome=Outcome.ABANDONED)
    assert abandoned and "40 ms" in abandoned[0].reason
    assert not d.dispatcher.journal.find(name="Use")


async def test_execute_on_expression_true(desktop_factory):
    d = desktop_factory(config("""
  - name: When
    control: Global Manager
    action: ExecuteOnExpressionTrue
    data: |
      milliseconds=5000
      interval=10
      return "[[$Context.count]+]" != "" && Number("[[$Context.count]+]") > 2;
    sub_action_calls: [Use]
  - {name: Use, control: Global Manager, action: CopyToContext, data: "fired=[[$Context.count]]"}
"""))
    await d.dispatcher.run_action_call("When")
    for n in range(1, 5):
        d.sessions.global_session.store.set("$Context", "count", n)
        await asyncio.sleep(0.03)
    for _ in range(200):
        if d.sessions.global_session.store.get("$Context", "fired"):
            break
        await asyncio.sleep(0.01)
    assert d.sessions.global_session.store.get("$Context", "fired") in ("3", "4")


async def test_deferred_work_is_cancelled_with_its_session(desktop_factory):
    # The target of an ExecuteOn* call only decides its lifetime: a session control ties it to
    # the session it runs in.
    d = desktop_factory(config("""
  - {name: Later, control: Notes, action: ExecuteOnTimeout, data: "milliseconds=10000", sub_action_calls: [Mark]}
  - {name: Mark, control: Global Manager, action: CopyToContext, data: "done=1"}
""").replace("hosted_controls:", "hosted_controls:\n  - {name: Notes, type: ConnectionManager, is_global: false}"))
    session = d.sessions.create("Customer")
    await d.dispatcher.run_action_call("Later", session=session)
    assert d.dispatcher.pending(session) == 1
    d.sessions.close(session)
    await asyncio.sleep(0.01)
    assert d.dispatcher.pending(session) == 0
    abandoned = d.dispatcher.journal.find(outcome=Outcome.ABANDONED)
    assert abandoned and "session closed" in abandoned[0].reason


async def test_pause_waits_without_blocking_the_loop(desktop_factory):
    d = desktop_factory(config("""
  - {name: Wait, control: Global Manager, action: Pause, data: "milliseconds=50", order: 1}
  - {name: After, control: Global Manager, action: CopyToContext, data: "after=1", order: 2}
""", "events:\n  - {control: Global Manager, name: Go, action_calls: [Wait, After]}"))
    task = asyncio.ensure_future(d.dispatcher.fire_event("Global Manager", "Go"))
    ticks = 0
    while not task.done():
        ticks += 1
        await asyncio.sleep(0.005)
    assert ticks > 3, "the loop kept running during Pause"
    assert d.sessions.global_session.store.get("$Context", "after") == "1"


async def test_monikers_drive_the_dispatcher(desktop_factory):
    d = desktop_factory(config("""
  - {name: Handle, control: Global Manager, action: CopyToContext, data: "who=[[who]]"}
  - {name: Named Call, control: Global Manager, action: CopyToContext, data: "named=1"}
""", "events:\n  - {control: Page, name: Hello, action_calls: [Handle]}"))
    assert await d.dispatcher.open_moniker("https://event/?EventName=Hello&who=A%20B", source="Page")
    assert d.sessions.global_session.store.get("$Context", "who") == "A B"
    assert await d.dispatcher.open_moniker(
        "https://uii/Global%20Manager/CopyToContext?direct%3D1%0D%0Aother%3D2")
    assert d.sessions.global_session.store.section("$Context")["direct"] == "1"
    assert d.sessions.global_session.store.section("$Context")["other"] == "2"
    assert await d.dispatcher.open_moniker("https://actioncall/Named+Call")
    assert d.sessions.global_session.store.get("$Context", "named") == "1"
    assert not await d.dispatcher.open_moniker("https://example.com/page")


async def test_page_monikers_take_uii_data_literally(desktop_factory):
    d = desktop_factory(config("""
  - {name: Dummy, control: Global Manager, action: CopyToContext, data: "x=1"}
"""))
    d.sessions.global_session.store.set("$Settings", "secret", "s3cret")
    url = "https://uii/Global%20Manager/CopyToContext?leak%3D%5B%5B%24Settings.secret%5D%5D"
    assert await d.dispatcher.open_moniker(url, source="Web", trusted=False)
    assert d.sessions.global_session.store.get("$Context", "leak") == "[[$Settings.secret]]"
    assert await d.dispatcher.open_moniker(url)  # trusted (configuration-authored) markup renders
    assert d.sessions.global_session.store.get("$Context", "leak") == "s3cret"


async def test_sub_action_calls_run_by_their_order(desktop_factory):
    d = desktop_factory(config("""
  - {name: Parent, control: Global Manager, action: CopyToContext, data: "p=1", sub_action_calls: [Late, Early, Tie]}
  - {name: Late, control: Global Manager, action: CopyToContext, data: "a=1", order: 5}
  - {name: Early, control: Global Manager, action: CopyToContext, data: "b=1", order: 1}
  - {name: Tie, control: Global Manager, action: CopyToContext, data: "c=1", order: 5}
"""))
    await d.dispatcher.run_action_call("Parent")
    names = [r.name for r in d.dispatcher.journal if r.kind == "action_call"]
    assert names == ["Parent", "Early", "Late", "Tie"]


async def test_trace_records_when_a_call_started(desktop_factory):
    from datetime import datetime

    d = desktop_factory(config("""
  - {name: Wait, control: Global Manager, action: Pause, data: "milliseconds=60"}
"""))
    outcome = await d.dispatcher.run_action_call("Wait")
    record = outcome.record
    assert record is not None and record.duration_ms >= 50
    began = datetime.fromisoformat(record.started)
    assert (datetime.now(began.tzinfo) - began).total_seconds() * 1000 >= 50
