"""The agent-script engine: entry, moves, history, visited answers, persistence, display text."""

from __future__ import annotations

import json

import pytest

from usd_desktop.config.schema_scripts import AgentScriptAnswer, AgentScriptTask, ScriptTrigger
from usd_desktop.core.agent_script import (
    MAIN_MENU,
    RenderedText,
    ScriptEngine,
    ScriptState,
    normalise_dnis,
    render_text,
    without_blanks,
)


def task(name: str, *, start: bool = False, calls: tuple[str, ...] = (),
         answers: tuple[AgentScriptAnswer, ...] = (), triggers: tuple[ScriptTrigger, ...] = ()
         ) -> AgentScriptTask:
    return AgentScriptTask(name=name, start_task=start, action_calls=list(calls),
                           answers=list(answers), triggers=list(triggers))


def answer(name: str, link: str | None = None, *, order: int = 0,
           calls: tuple[str, ...] = ()) -> AgentScriptAnswer:
    return AgentScriptAnswer(name=name, text=name.title(), linked_task=link, order=order,
                             action_calls=list(calls))


SCRIPT = [
    task("Greeting", start=True, calls=("Greet",), answers=(
        answer("reason", "Reason", calls=("Note greeting",)),
        answer("wrong number", "Goodbye"),
    )),
    task("Reason", calls=("Open case form", "Show case"), answers=(
        answer("case", "Case"),
        answer("knowledge", "Knowledge", calls=("Search",)),
    )),
    task("Case"),
    task("Knowledge"),
    task("Goodbye"),
    task("Sales line", triggers=(ScriptTrigger(name="sales", type="dnis", data="+1 800-555-0100"),)),
    task("Chat", triggers=(ScriptTrigger(name="chat", type="other", data="CallType=Chat"),)),
]


@pytest.fixture
def engine() -> ScriptEngine:
    return ScriptEngine(SCRIPT)


# --------------------------------------------------------------------------------------- entry
def test_entry_by_dnis_trigger_ignores_spaces_plus_and_dashes(engine: ScriptEngine) -> None:
    assert engine.entry({"dnis": "18005550100"}) == "Sales line"
    assert engine.entry({"DNIS": "+1 (800) 555 0100"}) == "Sales line"
    assert engine.entry({"dnis": "18005550199"}) == "Greeting"  # no trigger: the only start task
    assert normalise_dnis("+1 800-555-0100") == "18005550100"
    assert engine.task_for_dnis("1-800-555-0100") == "Sales line"
    assert engine.task_for_dnis("") is None and engine.task_for_dnis("42") is None


def test_entry_by_other_trigger_key_any_case_value_exact(engine: ScriptEngine) -> None:
    assert engine.entry({"calltype": "Chat"}) == "Chat"
    assert engine.entry({"CALLTYPE": " Chat "}) == "Chat"
    assert engine.entry({"calltype": "Voice"}) == "Greeting"
    assert engine.entry({"calltype": "chat"}) == "Greeting"  # values are compared as written


def test_first_matching_task_in_task_order_wins() -> None:
    both = [
        task("First", triggers=(ScriptTrigger(name="t", data="queue=vip"),)),
        task("Second", start=True, triggers=(ScriptTrigger(name="t", data="queue=vip"),)),
    ]
    assert ScriptEngine(both).entry({"queue": "vip"}) == "First"


def test_entry_single_start_task_else_main_menu() -> None:
    assert ScriptEngine([task("A", start=True), task("B")]).entry({}) == "A"
    assert ScriptEngine([task("A", start=True), task("B", start=True)]).entry({}) is None
    assert ScriptEngine([task("A"), task("B")]).entry({}) is None
    assert ScriptEngine([]).entry({"dnis": "1"}) is None
    engine = ScriptEngine([task("B", start=True), task("X"), task("A", start=True)])
    assert [t.name for t in engine.start_tasks] == ["B", "A"]  # list order
    assert engine.has_main_menu


def test_start_gives_a_fresh_state_and_the_entry_task_actions(engine: ScriptEngine) -> None:
    state, step = engine.start({})
    assert state == ScriptState(current="Greeting")
    assert step.moved and step.reached == "Greeting" and step.task_action_calls == ("Greet",)
    assert step.answer_action_calls == () and step.position == "Greeting"
    state, step = engine.start({}, task="Reason")
    assert state.current == "Reason" and step.task_action_calls == ("Open case form", "Show case")
    menu_state, menu = ScriptEngine([task("A", start=True), task("B", start=True)]).start({})
    assert menu_state.current is None and menu.moved and menu.reached is None
    assert menu.position == MAIN_MENU and menu.task_action_calls == ()


# --------------------------------------------------------------------------------------- moves
def test_choose_with_linked_task_runs_answer_calls_before_task_calls(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    step = engine.choose(state, "reason")
    assert step.moved and step.reached == "Reason"
    assert step.answer_action_calls == ("Note greeting",)
    assert step.task_action_calls == ("Open case form", "Show case")
    assert (step.task, step.answer) == ("Greeting", "reason")
    assert state.current == "Reason" and state.history == ["Greeting"]
    assert state.visited == {"Greeting": ["reason"]}


def test_choose_without_linked_task_stays() -> None:
    engine = ScriptEngine([task("Checklist", start=True, calls=("Load",), answers=(
        answer("a", calls=("Tick a",)), answer("b")))])
    state, _ = engine.start({})
    step = engine.choose(state, "a")
    assert not step.moved and step.reached == "Checklist"
    assert step.answer_action_calls == ("Tick a",) and step.task_action_calls == ()
    assert state.current == "Checklist" and state.history == []
    assert state.is_visited("Checklist", "a") and not state.is_visited("Checklist", "b")


def test_all_answers_visited_exactly_once() -> None:
    engine = ScriptEngine([task("Checklist", start=True, answers=(
        answer("a"), answer("b"), answer("c")))])
    state, _ = engine.start({})
    flags = [engine.choose(state, name).all_answers_visited for name in ("a", "b", "a", "c", "b", "c")]
    assert flags == [False, False, False, True, False, False]
    assert state.visited == {"Checklist": ["a", "b", "c"]}


def test_visited_marks_survive_leaving_and_coming_back(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    engine.choose(state, "reason")
    engine.choose(state, "knowledge")
    engine.back_to(state, 0)
    assert state.current == "Greeting"
    assert state.is_visited("Greeting", "reason") and state.is_visited("Reason", "knowledge")
    step = engine.choose(state, "reason")  # again: the task's action calls run again (forward)
    assert step.task_action_calls == ("Open case form", "Show case") and not step.all_answers_visited
    assert state.visited["Greeting"] == ["reason"]


def test_back_and_back_to_move_without_action_calls(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    engine.choose(state, "reason")
    engine.choose(state, "knowledge")
    assert state.current == "Knowledge" and state.history == ["Greeting", "Reason"]

    step = engine.back(state)
    assert step.moved and step.reached == "Reason"
    assert step.task_action_calls == () and step.answer_action_calls == ()  # no re-run on back
    assert state.history == ["Greeting"]

    engine.go_to(state, "Goodbye")
    assert state.history == ["Greeting", "Reason"]
    step = engine.back_to(state, 0)
    assert step.moved and step.reached == "Greeting" and step.task_action_calls == ()
    assert state.current == "Greeting" and state.history == []

    nothing = engine.back(state)
    assert not nothing.moved and state.current == "Greeting"
    with pytest.raises(IndexError):
        engine.back_to(state, 0)


def test_go_to_and_main_menu(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    step = engine.go_to(state, "Reason")
    assert step.moved and step.task_action_calls == ("Open case form", "Show case")
    menu = engine.main_menu(state)
    assert menu.moved and menu.reached is None and menu.position == MAIN_MENU
    assert menu.task_action_calls == () and state.current is None
    assert state.history == ["Greeting", "Reason"]
    assert not engine.main_menu(state).moved  # already there
    back = engine.back(state)
    assert back.reached == "Reason"
    with pytest.raises(ValueError, match="main menu has no answers"):
        engine.choose(ScriptState(), "reason")


def test_unknown_task_or_answer_is_named(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    with pytest.raises(ValueError, match="'Nowhere'"):
        engine.go_to(state, "Nowhere")
    with pytest.raises(ValueError, match="'Nowhere'"):
        engine.start({}, task="Nowhere")
    with pytest.raises(ValueError, match="no answer named 'maybe'"):
        engine.choose(state, "maybe")
    assert state.current == "Greeting" and state.history == []  # unchanged
    broken = ScriptEngine([task("A", start=True, answers=(answer("x", "Gone"),))])
    broken_state, _ = broken.start({})
    with pytest.raises(ValueError, match="'Gone'"):
        broken.choose(broken_state, "x")
    assert broken_state.visited == {}  # nothing recorded for a choice that failed


def test_answers_by_order_ties_keep_list_order() -> None:
    engine = ScriptEngine([task("T", start=True, answers=(
        answer("third", order=5), answer("first", order=1), answer("second-a", order=3),
        answer("second-b", order=3), answer("zero")))])
    assert [a.name for a in engine.answers("T")] == ["zero", "first", "second-a", "second-b", "third"]


def test_duplicate_task_names_first_wins() -> None:
    engine = ScriptEngine([task("A", start=True, calls=("one",)), task("A", calls=("two",))])
    assert list(engine.task("A").action_calls) == ["one"]


# --------------------------------------------------------------------------------------- persistence
def test_state_round_trips_through_json(engine: ScriptEngine) -> None:
    state, _ = engine.start({})
    engine.choose(state, "reason")
    engine.main_menu(state)
    engine.go_to(state, "Reason")
    engine.choose(state, "knowledge")
    data = state.to_json()
    text = json.dumps(data)
    again = ScriptState.from_json(json.loads(text))
    assert again == state and again.to_json() == data
    assert again.history == ["Greeting", "Reason", None, "Reason"]
    again.visited["Reason"].append("x")  # a copy, not shared
    assert state.visited["Reason"] == ["knowledge"]
    assert ScriptState.from_json(ScriptState().to_json()) == ScriptState()


@pytest.mark.parametrize("bad", [
    [], {"current": 3}, {"history": "Greeting"}, {"history": [1]}, {"visited": {"A": "x"}},
    {"visited": {"A": [1]}},
])
def test_from_json_refuses_other_shapes(bad: object) -> None:
    with pytest.raises(ValueError):
        ScriptState.from_json(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- display text
def data_with(**roots: dict[str, str]) -> dict[str, object]:
    return {"session": roots, "global": {}, "active": roots, "event": {}}


def test_render_text_marks_missing_parameters() -> None:
    data = data_with(contact={"first_name": "Maria"})
    assert render_text("Hello [[contact.first_name]]!", data) == RenderedText("Hello Maria!")
    shown = render_text("Hello [[contact.first_name]], case [[case.number]] [[case.number]].", data_with())
    assert shown.text == "Hello «contact.first_name», case «case.number» «case.number»."
    assert shown.missing == ("contact.first_name", "case.number") and not shown.error
    assert render_text("[[a.b]+]-", data_with()).text == "-"  # + renders nothing, as always
    custom = render_text("[[a.b]u]", data_with(), mark=lambda p: f"<{p}>")
    assert custom.text == "<a.b>"
    assert render_text("", data_with()) == RenderedText("")


def test_blank_values_can_show_as_missing() -> None:
    data = data_with(case={"number": "C-1", "next_steps": ""})
    assert render_text("[[case.number]]: [[case.next_steps]]", data).text == "C-1: "
    shown = render_text("[[case.number]]: [[case.next_steps]]", without_blanks(data))
    assert shown.text == "C-1: «case.next_steps»" and shown.missing == ("case.next_steps",)
    assert data["session"] == {"case": {"number": "C-1", "next_steps": ""}}  # a copy: untouched
    assert without_blanks({"event": {"a": "", "b": "x"}})["event"] == {"b": "x"}


def test_render_text_gives_the_template_when_it_cannot_render() -> None:
    broken = render_text("$Expression(throw new Error('x'))", data_with())
    assert broken.text == "$Expression(throw new Error('x'))" and broken.error
