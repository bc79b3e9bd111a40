"""Property tests: rendering never fails in an unexpected way, and the modifiers keep their promises."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from usd_desktop.core import jsengine
from usd_desktop.core.errors import MissingParameter, ReplacementError
from usd_desktop.core.replacement import parse, render, to_text, try_render

FAST = settings(
    max_examples=150,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow],
)

ROOTS = ["a", "b", "Account", "$Global", "$Resources", "$Context", "script", "KB Search"]
NAMES = ["x", "y", "name", "Default Subject.Id", "MaxReplacementParameterDepth"]
BARE = ["url", "x", "Str1"]
FLAGS = ["", "+", "v", "+v", "u", "x", "$", "^", "g", "a", "ga", "+x", "u+", "$+", "^$", "vq", "q"]

paths = st.one_of(
    st.builds(lambda r, n: f"{r}.{n}", st.sampled_from(ROOTS), st.sampled_from(NAMES)),
    st.sampled_from(BARE),
    st.text(alphabet="ab.$ ]([", max_size=6),
)
tokens = st.builds(lambda p, f: f"[[{p}]{f}]", paths, st.sampled_from(FLAGS))
literals = st.text(alphabet="ab \n\r()[]$'\"`\\/*.=+", max_size=8)
js_bits = st.sampled_from(
    ["1 + 2", "'x'", '")"', "'('", "`)`", "(1)", "/* ) */", "// )\n", "\\'", "[[a.x]$+]", "!0", "'"]
)


@st.composite
def templates(draw: st.DrawFn, depth: int = 0) -> str:
    pieces: list[str] = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.integers(0, 9 if depth < 2 else 6))
        if kind <= 2:
            pieces.append(draw(literals))
        elif kind <= 6:
            pieces.append(draw(tokens))
        elif kind == 7:
            body = "".join(draw(st.lists(st.one_of(js_bits, tokens), max_size=4)))
            pieces.append(f"$Expression({body}{draw(st.sampled_from([')', ')', '']))}")
        elif kind == 8:
            pieces.append(f"$Multiline({draw(templates(depth + 1))})")
        else:
            pieces.append(draw(st.sampled_from(["$Expression(", "$Multiline(", "[[", "]]", ")"])))
    return "".join(pieces)


scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=10),
    tokens,
    st.builds(lambda a, b: a + b, st.text(max_size=4), tokens),
)
sections = st.dictionaries(st.sampled_from(NAMES), scalar_values, max_size=4)
scopes = st.dictionaries(st.sampled_from(ROOTS), sections, max_size=5)
datas = st.fixed_dictionaries(
    {},
    optional={
        "session": scopes,
        "global": scopes,
        "active": st.one_of(st.none(), scopes),
        "event": st.dictionaries(st.sampled_from(BARE), scalar_values, max_size=3),
    },
)
scriptlet_maps = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(NAMES),
        st.sampled_from(["1 + 1", "'[[a.x]+]'", "'[[script.x]+]'", "throw 1", "[[b.y]]", "(("]),
        max_size=3,
    ),
)


@FAST
@given(templates(), datas, scriptlet_maps, st.one_of(st.none(), st.integers(-2, 60)))
def test_render_returns_text_or_raises_a_replacement_error(
    template: str, data: dict[str, Any], scriptlets: dict[str, str] | None, max_depth: int | None
) -> None:
    try:
        result = render(template, data, scriptlets=scriptlets, max_depth=max_depth, time_limit=0.2)
    except ReplacementError:
        return
    assert isinstance(result, str)


@FAST
@given(templates(), datas)
def test_try_render_is_none_exactly_when_a_parameter_is_missing(template: str, data: dict[str, Any]) -> None:
    try:
        expected: str | None = render(template, data, time_limit=0.2)
    except MissingParameter:
        expected = None
    except ReplacementError:
        return
    assert try_render(template, data, time_limit=0.2) == expected


@FAST
@given(st.text())
def test_text_without_tokens_or_constructs_renders_as_itself(text: str) -> None:
    text = text.replace("[[", "[").replace("$", "")
    assert render(text, {}) == text
    assert parse(text) is parse(text)
    assert parse(text).is_constant


@FAST
@given(templates())
def test_parse_is_cached_and_lists_only_well_formed_tokens(template: str) -> None:
    try:
        parsed = parse(template)
    except ReplacementError:
        return
    assert parse(template) is parsed
    for parameter in parsed.parameters:
        assert parameter.token.startswith("[[") and parameter.token.endswith("]")
        assert parameter.token in template
        assert parameter.root
        assert not ({"g", "a"} <= parameter.flags)


values = st.text(max_size=30)


@FAST
@given(values)
def test_xml_escaped_values_have_no_markup_characters(value: str) -> None:
    out = render("[[a.b]x]", {"session": {"a": {"b": value}}})
    assert not set(out) & set("<>\"'")
    assert out.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == (
        out.count("&quot;") + out.count("&apos;")
    )


@FAST
@given(values)
def test_url_encoded_values_are_unreserved_ascii(value: str) -> None:
    out = render("[[a.b]u]", {"session": {"a": {"b": value}}})
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%")
    assert set(out) <= allowed


@settings(max_examples=60, deadline=timedelta(seconds=2))
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20))
def test_js_escaped_values_round_trip_through_a_string_literal(value: str) -> None:
    rendered = render("'[[a.b]$]' + \"[[a.b]$]\"", {"session": {"a": {"b": value}}})
    if "\x00" in value:
        return  # the engine cannot read NUL; $Expression replaces it, plain text is not evaluated
    assert jsengine.evaluate_to_string(rendered) == value + value


@FAST
@given(values)
def test_flattened_values_have_no_line_breaks(value: str) -> None:
    out = render("[[a.b]^]", {"session": {"a": {"b": value}}})
    assert "\r" not in out and "\n" not in out


@settings(max_examples=100, deadline=timedelta(seconds=2))
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_shown_as_javascript_shows_them(number: float) -> None:
    ours = to_text(number)
    engine = jsengine.evaluate_to_string(f"String({number!r})")
    # Same notation and the same number. We always give the shortest digits that round-trip, as
    # the ECMAScript spec asks; QuickJS occasionally prints one more (2**-24: 17 digits, not 16).
    assert float(ours) == float(engine) == number or (number == 0 and ours == engine == "0")
    assert ("e" in ours) == ("e" in engine)
    assert len(ours) <= len(engine)
    if not any(c in engine for c in "e."):
        assert ours == engine
