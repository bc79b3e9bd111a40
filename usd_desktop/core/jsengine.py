"""A sandboxed JavaScript engine (QuickJS) for conditions, ``$Expression`` and scriptlets.

USD evaluates conditions, ``$Expression(...)`` and scriptlets as JavaScript (legacy JScript). We keep
those semantics (string/number coercion, ``&&``/``||``/``!``, ternaries, functions) with QuickJS:

* every evaluation gets a fresh interpreter, so nothing leaks from one evaluation to the next;
* there is no file, network, module or timer API in it (QuickJS without its ``std``/``os`` modules);
* each evaluation has a time limit and a memory limit; past the time limit it is interrupted and
  :class:`ScriptTimeout` is raised, so a ``while(true){}`` in a configuration never hangs the desktop.

A piece of code is run as a *script* and its completion value is the result, so an expression
(``"12" > 9``), a statement list (``function f(){return 1}; f();``) and, as USD's examples do, a bare
``return`` statement (``return "[[x]$+]" != "";``) all work.

Never Python ``eval``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import quickjs

from usd_desktop.core.errors import ScriptError, ScriptTimeout

#: Seconds one evaluation may run before it is interrupted.
DEFAULT_TIME_LIMIT = 0.5
#: Bytes of memory one evaluation may allocate.
MEMORY_LIMIT = 32 * 1024 * 1024
#: Bytes of native stack one evaluation may use (deep recursion throws a RangeError instead).
STACK_LIMIT = 512 * 1024

JsScalar = str | int | float | bool | None

# Runs the code as a global script (indirect eval gives its completion value); a top-level
# ``return`` is a SyntaxError there, so such code runs again as a function body.
_RUNNER = """
(function (code) {
  try {
    return (0, eval)(code);
  } catch (e) {
    if (e instanceof SyntaxError && /return not in a function/.test(e.message)) {
      return (new Function(code))();
    }
    throw e;
  }
})
"""

_TO_STRING = """
(function (v) {
  if (v === undefined || v === null) return "";
  if (typeof v === "object" || typeof v === "function") {
    try { var s = JSON.stringify(v); if (s !== undefined) return s; } catch (e) {}
  }
  return String(v);
})
"""

_SYNTAX = """
(function (code) {
  try { new Function(code); return ""; } catch (e) {
    if (!(e instanceof SyntaxError)) return "";
  }
  try { new Function("return (" + code + "\\n)"); return ""; } catch (e) { return String(e.message); }
})
"""


_UNREADABLE = re.compile("[\x00\ud800-\udfff]")


def readable(code: str) -> str:
    """The engine cannot read NUL (it stops there) or an unpaired surrogate (it crashes the
    interpreter): such characters become U+FFFD before any code or binding reaches it."""
    if code.isascii() and "\x00" not in code:
        return code
    return _UNREADABLE.sub("\ufffd", code)


def _context(time_limit: float, bindings: Mapping[str, JsScalar] | None) -> quickjs.Context:
    ctx = quickjs.Context()
    ctx.set_memory_limit(MEMORY_LIMIT)
    ctx.set_max_stack_size(STACK_LIMIT)
    ctx.set_time_limit(time_limit)
    if bindings:
        for name, value in bindings.items():
            ctx.set(name, readable(value) if isinstance(value, str) else value)
    return ctx


def _raise_for(exc: Exception, code: str, time_limit: float) -> None:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if first in ("", "null"):
        raise ScriptError(
            f"script ran out of its {MEMORY_LIMIT // (1024 * 1024)} MB memory limit: {_excerpt(code)}"
        ) from None
    if "interrupted" in first:
        raise ScriptTimeout(
            f"script ran longer than {time_limit:g} s and was stopped: {_excerpt(code)}"
        ) from None
    raise ScriptError(f"{first} in script: {_excerpt(code)}") from None


def _excerpt(code: str, limit: int = 120) -> str:
    flat = " ".join(code.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _run(
    code: str, wrapper: str, time_limit: float, bindings: Mapping[str, JsScalar] | None
) -> Any:
    ctx = _context(time_limit, bindings)
    code = readable(code)
    try:
        runner = ctx.eval(_RUNNER)
        post = ctx.eval(wrapper)
        return post(runner(code))
    except quickjs.JSException as exc:
        _raise_for(exc, code, time_limit)
    except MemoryError:
        raise ScriptError(f"script used more than {MEMORY_LIMIT} bytes: {_excerpt(code)}") from None
    return None  # pragma: no cover - _raise_for always raises


def evaluate_to_string(
    code: str,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    bindings: Mapping[str, JsScalar] | None = None,
) -> str:
    """Run ``code``; return its value as JavaScript's ``String()`` gives it.

    ``undefined`` and ``null`` give ``""``; objects and arrays give their JSON text.
    """
    result = _run(code, _TO_STRING, time_limit, bindings)
    return str(result)


def evaluate_to_bool(
    code: str,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    bindings: Mapping[str, JsScalar] | None = None,
) -> bool:
    """Run ``code``; return its JavaScript truthiness (``"false"`` is a non-empty string: true)."""
    return bool(_run(code, "(function (v) { return !!v; })", time_limit, bindings))


def evaluate(
    code: str,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    bindings: Mapping[str, JsScalar] | None = None,
) -> JsScalar | list[Any] | dict[str, Any]:
    """Run ``code``; return its value as a Python scalar, list or dict (through JSON)."""
    wrapper = (
        "(function (v) { if (v === undefined) return null;"
        " if (typeof v === 'number' && !isFinite(v)) return String(v);"
        " return JSON.stringify(v); })"
    )
    raw = _run(code, wrapper, time_limit, bindings)
    if raw is None:
        return None
    text = str(raw)
    if text in ("NaN", "Infinity", "-Infinity"):
        return float(text.replace("Infinity", "inf")) if text != "NaN" else math.nan
    value: Any = json.loads(text)
    return value  # type: ignore[no-any-return]


@lru_cache(maxsize=4096)
def syntax_error(code: str) -> str | None:
    """Return the syntax error in ``code`` (as a script or an expression), or ``None`` if it parses.

    Used when a configuration is loaded, so a broken condition is reported with its record and
    field before anything runs. Replacement tokens should be replaced by placeholders first.
    """
    # A fresh, time-limited context each time: QuickJS's Function constructor runs code smuggled
    # past the body's closing brace, so even a "compile only" check must be sandboxed.
    ctx = _context(DEFAULT_TIME_LIMIT, None)
    try:
        message = str(ctx.eval(_SYNTAX)(readable(code)))
    except quickjs.JSException as exc:  # pragma: no cover - the checker itself does not throw
        return str(exc).splitlines()[0]
    return message or None
