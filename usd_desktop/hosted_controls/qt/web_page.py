"""The QWebEnginePage behind a Standard Web Application: USD monikers, popups and ``window.IsUSD``.

A page drives the desktop through USD's URL monikers (reference §4.3-4.4): ``https://event/``,
``https://uii/`` and ``https://actioncall/``, whether it follows a link, sets ``location.href`` or
calls ``window.open``. :class:`UsdWebPage` refuses those navigations and hands the URL to its
owner instead. Every other navigation request is offered to the owner too (``on_navigation``), which
may refuse it: the window navigation rules of :mod:`.web_routing`. ``window.open`` and
``target=_blank`` links get a throwaway :class:`PopupCatcher` page: its first navigation request is
checked, handed to the owner (a moniker is dispatched, an ordinary URL goes to the owner's pop-up
handler, which routes it) and the throwaway page is deleted.

Every document gets ``window.IsUSD = true`` before its own scripts run, so pages written for USD
can guard with it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QUrl
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
)

from usd_desktop.core.errors import ActionError
from usd_desktop.core.monikers import parse_moniker

log = logging.getLogger(__name__)

#: The script that marks every document as hosted by the desktop (USD pages test ``window.IsUSD``).
IS_USD_SCRIPT = "window.IsUSD = true;"

#: Called with a moniker URL the page refused to navigate to.
MonikerHandler = Callable[[str], None]
#: Called with the first (ordinary) URL a ``window.open`` popup wanted to show.
PopupHandler = Callable[[str], None]
#: Asked about every other navigation request (URL, type, main frame?): ``False`` refuses it.
NavigationHandler = Callable[[str, QWebEnginePage.NavigationType, bool], bool]


def is_moniker(url: QUrl | str) -> bool:
    text = url.toString() if isinstance(url, QUrl) else url
    return parse_moniker(text) is not None


class UsdWebPage(QWebEnginePage):
    """A page that turns USD monikers into desktop work instead of navigations."""

    def __init__(
        self,
        profile: QWebEngineProfile,
        parent: QObject | None,
        *,
        on_moniker: MonikerHandler,
        on_popup: PopupHandler,
        on_navigation: NavigationHandler | None = None,
    ) -> None:
        super().__init__(profile, parent)
        self._on_moniker = on_moniker
        self._on_popup = on_popup
        self._on_navigation = on_navigation
        self.settings().setAttribute(
            QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows, True
        )
        script = QWebEngineScript()
        script.setName("usd-desktop-is-usd")
        script.setSourceCode(IS_USD_SCRIPT)
        script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        script.setRunsOnSubFrames(True)
        self.scripts().insert(script)

    def acceptNavigationRequest(
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        qurl = url if isinstance(url, QUrl) else QUrl(url)
        if is_moniker(qurl):
            log.debug("page %s: moniker %s", self.objectName(), qurl.toString())
            self._on_moniker(qurl.toString())
            return False
        if self._on_navigation is not None and not self._on_navigation(
            qurl.toString(), type, isMainFrame
        ):
            return False
        return super().acceptNavigationRequest(qurl, type, isMainFrame)

    def javaScriptConsoleMessage(
        self,
        level: QWebEnginePage.JavaScriptConsoleMessageLevel,
        message: str,
        lineNumber: int,
        sourceID: str,
    ) -> None:
        # Page chatter goes to the Python log (the debugger shows it), not to Qt's warning channel.
        log.debug("page %s console [%s] %s (%s:%d)", self.objectName(), level.name, message,
                  sourceID, lineNumber)

    def createWindow(self, type: QWebEnginePage.WebWindowType) -> QWebEnginePage:
        # The popup must share this page's profile; it lives until its first navigation request.
        return PopupCatcher(self.profile(), self, on_moniker=self._on_moniker,
                            on_popup=self._on_popup)


class PopupCatcher(QWebEnginePage):
    """The throwaway page given to ``window.open``: looks at the first URL, then goes away."""

    def __init__(
        self,
        profile: QWebEngineProfile,
        parent: QObject | None,
        *,
        on_moniker: MonikerHandler,
        on_popup: PopupHandler,
    ) -> None:
        super().__init__(profile, parent)
        self._on_moniker = on_moniker
        self._on_popup = on_popup
        self.handled = False

    def acceptNavigationRequest(
        self, url: QUrl | str, type: QWebEnginePage.NavigationType, isMainFrame: bool
    ) -> bool:
        if self.handled or not isMainFrame:
            return False
        self.handled = True
        text = url.toString() if isinstance(url, QUrl) else url
        if is_moniker(text):
            self._on_moniker(text)
        else:
            self._on_popup(text)
        self.deleteLater()
        return False


# ---------------------------------------------------------------------- RunScript results
#: Runs the script with a global (indirect) eval and reports its completion value as tagged JSON:
#: PySide hands objects, arrays, undefined and null back as "" otherwise, and throws silently.
_SCRIPT_WRAPPER = """(function (src) {
  var r;
  try { r = (0, eval)(src); }
  catch (e) {
    if (e instanceof EvalError) { return JSON.stringify({csp: true}); }
    return JSON.stringify({error: String(e && e.message ? e.message : e)});
  }
  if (r === undefined || r === null) { return "{}"; }
  if (typeof r === "object" || typeof r === "function") {
    try { return JSON.stringify({json: JSON.stringify(r)}); }
    catch (e) { return JSON.stringify({value: String(r)}); }
  }
  return JSON.stringify({value: r});
})(%s)"""

class CspBlocked:
    """:func:`decode_script_result`'s answer when the page's Content-Security-Policy forbids eval."""


CSP_BLOCKED = CspBlocked()


def wrap_script(code: str) -> str:
    return _SCRIPT_WRAPPER % json.dumps(code)


def decode_script_result(raw: Any) -> str | CspBlocked | None:
    """The ``$Return`` text of a wrapped script, ``None``, or :data:`CSP_BLOCKED`."""
    try:
        payload = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise ActionError(f"RunScript: unexpected answer from the page: {raw!r}")
    if payload.get("csp"):
        return CSP_BLOCKED
    if "error" in payload:
        raise ActionError(f"RunScript: the script threw: {payload['error']}")
    if "json" in payload:
        return str(payload["json"])
    return script_result_text(payload.get("value"))


def script_result_text(value: Any) -> str | None:
    """A JavaScript value as USD's ``$Return`` text (``None`` for undefined and null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
