"""The sandboxed JavaScript engine and conditions (USD semantics, never Python eval)."""

from __future__ import annotations

import time

import pytest

from usd_desktop.core import jsengine
from usd_desktop.core.conditions import condition_syntax_error, evaluate_condition, should_run
from usd_desktop.core.errors import ScriptError, ScriptTimeout

DATA = {"session": {"$Return": {"Days": "12"}, "account": {"name": "A. Datum"}}}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("", True),
        ("   ", True),
        ('"[[$Return.Days]]">9', True),  # USD example: string-to-number comparison
        ('"[[$Return.Days]]">"9"', False),  # string comparison when both sides are strings
        ('"[[account.name]]" == "A. Datum" && !false', True),
        ("1 == '1'", True),
        ("1 === '1'", False),
        ("null || 0 || ''", False),
        ('"false"', True),  # a non-empty string is truthy
        ('[[$Return.Days]] > 20 ? true : false', False),
        ('return "[[account.Id]$+]" != "";', False),  # USD's ExecuteOnExpressionTrue form
        ("function f(x){ return x * 2 } f([[$Return.Days]]) == 24", True),
        ("throw new Error('x')", False),  # an exception skips
        ("this is not javascript", False),
        ('"[[missing.value]]" == ""', False),  # a missing parameter without + skips
    ],
)
def test_should_run(condition, expected):
    assert should_run(condition, DATA) is expected


def test_results_say_why():
    assert "threw" in evaluate_condition("throw 1", DATA).reason
    missing = evaluate_condition('"[[a.b]]"', DATA)
    assert not missing.run and missing.missing is not None and missing.missing.parameter == "a.b"
    assert evaluate_condition("1 > 2", DATA).reason == "condition false"


def test_endless_loop_is_interrupted():
    start = time.monotonic()
    with pytest.raises(ScriptTimeout):
        jsengine.evaluate_to_string("while (true) {}", time_limit=0.2)
    assert time.monotonic() - start < 5
    assert should_run("for(;;){}", DATA) is False


def test_sandbox_has_no_io():
    kinds = jsengine.evaluate_to_string(
        "[typeof require, typeof std, typeof os, typeof fetch, typeof XMLHttpRequest,"
        " typeof setTimeout, typeof process].join(',')"
    )
    assert set(kinds.split(",")) == {"undefined"}


def test_no_state_leaks_between_evaluations():
    jsengine.evaluate_to_string("var leaked = 1; globalThis.other = 2;")
    assert jsengine.evaluate_to_string("typeof leaked + typeof other") == "undefinedundefined"


def test_memory_and_stack_limits():
    with pytest.raises(ScriptError):
        jsengine.evaluate_to_string("var a = []; while (true) a.push('x'.repeat(1000));")
    with pytest.raises(ScriptError, match="stack"):
        jsengine.evaluate_to_string("function r(){ return r() } r()")


def test_values_convert_like_javascript():
    assert jsengine.evaluate_to_string("1 + 1") == "2"
    assert jsengine.evaluate_to_string("true") == "true"
    assert jsengine.evaluate_to_string("undefined") == ""
    assert jsengine.evaluate_to_string("({a: [1, 2]})") == '{"a":[1,2]}'
    assert jsengine.evaluate("({a: [1, 2]})") == {"a": [1, 2]}
    assert jsengine.evaluate_to_bool("0") is False


def test_bindings():
    assert jsengine.evaluate_to_string("who + '!'", bindings={"who": "Tracie"}) == "Tracie!"


@pytest.mark.parametrize(
    ("condition", "ok"),
    [
        ('"[[account.name]]" == "x"', True),
        ("[[$Return.Days]] > 9", True),
        ('return "[[a.b]$+]" != "";', True),
        ('"[[a.b]]" == ', False),
        ("if (", False),
    ],
)
def test_condition_syntax_is_checked_without_data(condition, ok):
    assert (condition_syntax_error(condition) is None) is ok


def test_unreadable_characters_never_crash_the_engine():
    data = {"session": {"a": {"b": "x\ud800y\x00z"}}}
    assert should_run('"[[a.b]]" != ""', data) is True
    assert jsengine.evaluate_to_string('"\ud800" + "\x00!"') == "\ufffd\ufffd!"
    assert jsengine.syntax_error('"\udfff"') is None


def test_a_syntax_check_cannot_leave_anything_behind():
    # QuickJS's Function constructor runs code placed after the body's closing brace
    jsengine.syntax_error('}); globalThis.leftover = 1; (function(){')
    jsengine.syntax_error("}); while (true) {} (function(){")  # interrupted by the time limit
    assert jsengine.evaluate_to_string("typeof leftover") == "undefined"
