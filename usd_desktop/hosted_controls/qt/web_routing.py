"""Window navigation rules in the Standard Web Application, and the page it journals (usd-reference §5).

:class:`RoutedWebControl` is the half of
:class:`~usd_desktop.hosted_controls.qt.web_application.StandardWebApplication` that decides where
its pages go; the desktop's :class:`~usd_desktop.hosted_controls.navigation_router.NavigationRouter`
(``self.env.router``) does the deciding and the routing.

* **Pop-ups** (``window.open``, ``target=_blank`` links, the ``Popup`` action) become a ``popup``
  navigation routed in the control's session. When no rule takes it, the page opens in this control
  (USD's default, §5.2.9). Monikers are never routed: they are dispatched as before.
* **In place**: a main-frame navigation the page itself starts (a link, a form, a script setting
  ``location``: QtWebEngine types ``LinkClicked``, ``FormSubmitted`` and ``Other``) is decided
  synchronously in ``acceptNavigationRequest``. When a rule matches, the page stays where it is and
  the rule is carried out in the background; otherwise the navigation goes ahead.
* **Bypass.** What the control loads itself (``Navigate``, ``GoHome``, a routed page, a restored
  page, crash recovery) is never routed, as USD's ``Navigate``: those loads are ``Typed`` and the
  control also remembers the URL it is loading, so the first main-frame request for it passes.
  ``Typed``, ``Reload``, ``BackForward`` and ``Redirect`` requests are not routed (a redirect
  follows a request that was already decided, or the control's own load; QtWebEngine also reports a
  script's ``location.reload()`` as ``Redirect``).
* **Target.** :meth:`RoutedWebControl.open_routed` loads a routed page, bypassing the rules. The
  control has neither a command bar nor a navigation (address) bar, so the rule's
  ``hide_command_bar`` and ``hide_navigation_bar`` have nothing to hide here. The control does not
  show itself: the router does that for the rule's ``show_tab``.
* **PopupRouted** is raised on the source control by the router, not here.
* **Crash recovery.** :meth:`RoutedWebControl.session_state` is ``{"url": <page>}`` once a real page
  (not ``about:``, not a moniker) is shown, and :meth:`~HostedControl.state_changed` is called when
  it changes; :meth:`RoutedWebControl.restore_session_state` loads it, bypassing the rules, when
  the control first needs its page (at once when it already has one): Chromium stays unstarted for
  a restored session that is never looked at.

QtWebEngine's behaviour (measured with Qt 6.11): ``location.href = ...`` from a script is a
``LinkClicked`` request. A link to an external scheme (``tel:``, ``sip:``, ``mailto:``) reaches
``acceptNavigationRequest`` (as ``LinkClicked``, main frame) only when the navigation carries a user
gesture, i.e. a real click; accepted, QtWebEngine passes it to ``QDesktopServices.openUrl`` (the
system's handler), refused, nothing happens. Chromium drops script-started navigations to such
schemes (``element.click()``, ``location.href = "tel:..."``, ``window.open("tel:...")``) before Qt
sees them, so no rule can see them either; a page that wants a rule to catch them must let the user
click the link.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEnginePage

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.dispatcher import CallContext, Chain
from usd_desktop.core.errors import ActionError
from usd_desktop.core.navigation import Navigation
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.web_page import is_moniker

if TYPE_CHECKING:
    from usd_desktop.hosted_controls.navigation_router import RoutedPage, RouteOutcome
    from usd_desktop.hosted_controls.qt.web_page import UsdWebPage

log = logging.getLogger(__name__)

_Nav = QWebEnginePage.NavigationType
#: The main-frame navigation requests the window navigation rules decide (route type ``in_place``).
ROUTED_NAVIGATION_TYPES = frozenset({
    _Nav.NavigationTypeLinkClicked,
    _Nav.NavigationTypeFormSubmitted,
    _Nav.NavigationTypeOther,
})


def is_page_url(url: str) -> bool:
    """Whether ``url`` is a page worth journaling: not empty, not ``about:``, not a moniker."""
    text = url.strip()
    return bool(text) and not text.lower().startswith("about:") and not is_moniker(text)


def same_url(a: str, b: str) -> bool:
    """Whether two URLs are the same once encoded alike (Chromium and QUrl spell them apart)."""
    return a == b or QUrl(a).toEncoded() == QUrl(b).toEncoded()


def action_url(data: ActionData, action: str) -> str:
    """The address of ``Navigate``/``Popup``: ``url=``, else the first line of the data."""
    url = data.take("url")
    if not url or not url.strip():
        rest = data.remainder().strip()
        url = rest.splitlines()[0] if rest else ""
    url = url.strip()
    if not url:
        raise ActionError(f"{action} needs url=<address> (or the address on the first line)")
    return url


class RoutedWebControl(QtHostedControl):
    """Pop-ups and in-place navigations through the window navigation rules; routed and restored
    pages. The subclass provides :meth:`_load` (which must call :meth:`_loading_itself`) and
    :meth:`_open_moniker`, and keeps ``_page``."""

    _page: UsdWebPage | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._own_load: str | None = None  # the URL the control is loading itself, until requested
        self._state_url: str | None = None  # the real page shown (session_state)
        self._start_url: str | None = None  # a restored page to load instead of the home page

    # ------------------------------------------------------------------ provided by the subclass
    _load: Callable[[str], None]  # load a page (the control's own load: no rules)
    _open_moniker: Callable[[str], None]  # run a USD moniker the page asked for

    def _loading_itself(self, url: str) -> None:
        """Note that the control loads ``url`` itself: its request bypasses the rules."""
        self._own_load = url
        self._start_url = None

    # ------------------------------------------------------------------ in place
    def _accept_navigation(self, url: str, nav_type: QWebEnginePage.NavigationType,
                           is_main_frame: bool) -> bool:
        """``acceptNavigationRequest`` of the page (monikers already taken): ``False`` when a rule
        takes the navigation (carried out in the background), ``True`` to let it go ahead."""
        if not is_main_frame or self.closed:
            return True
        own, self._own_load = self._own_load, None
        if nav_type not in ROUTED_NAVIGATION_TYPES or (own is not None and same_url(url, own)):
            return True
        try:
            navigation = Navigation.of_url(self.name, url, "in_place", session_id=self.session.id)
            decision = self.env.router.decide(navigation, self.session)
        except Exception:  # never let a Python error escape into Chromium's navigation
            log.exception("%s: deciding the navigation to %s failed; it goes ahead", self.name, url)
            return True
        if decision.rule is None:
            return True
        log.info("%s: in-place navigation to %s taken by rule %r (%s)", self.name, url,
                 decision.rule.name, decision.action)
        self.env.spawn(self.env.router.apply(decision, self.session), session=self.session)
        return False

    # ------------------------------------------------------------------ pop-ups
    def _open_popup(self, url: str) -> None:
        """A pop-up's first URL (from the page's :class:`~.web_page.PopupCatcher`)."""
        if self.closed or not url or url == "about:blank":
            return
        self.env.spawn(self._route_popup(url), session=self.session)

    async def _route_popup(self, url: str, chain: Chain | None = None) -> RouteOutcome | None:
        if is_moniker(url):
            self._open_moniker(url)
            return None
        navigation = Navigation.of_url(self.name, url, "popup", session_id=self.session.id)
        outcome = await self.env.router.route(navigation, self.session, chain=chain)
        if not outcome.handled and not self.closed:
            log.info("%s: no rule took the pop-up %s; it opens in this control", self.name, url)
            self._load(url)
        return outcome

    @uii_action("Popup")
    async def popup(self, data: ActionData, call: CallContext) -> None:
        """Pops ``url=`` up from this control: the rules route it; no rule, it opens here."""
        for key in ("frame", "Frame"):
            data.take(key)
        url = action_url(data, "Popup")
        if self.closed:
            raise ActionError(f"{self.name} is closed")
        outcome = await self._route_popup(url, call.chain)
        if outcome is not None and outcome.problems:
            raise ActionError(f"Popup {url}: " + "; ".join(outcome.problems))

    # ------------------------------------------------------------------ routed here
    def open_routed(self, page: RoutedPage) -> None:
        """Load a page a rule routed here, bypassing the rules. ``hide_command_bar`` and
        ``hide_navigation_bar`` are ignored: this control has neither bar."""
        if self.closed:
            raise ActionError(f"{self.name} is closed")
        log.info("%s: %s routed here by rule %r from %s", self.name, page.url, page.rule,
                 page.from_control or "an unknown control")
        self._load(page.url)

    # ------------------------------------------------------------------ crash recovery
    def session_state(self) -> dict[str, Any] | None:
        url = self._state_url or self._start_url
        return {"url": url} if url else None

    def restore_session_state(self, state: Mapping[str, Any]) -> None:
        url = state.get("url")
        if not isinstance(url, str) or not is_page_url(url) or self.closed:
            return
        if self._page is None:
            self._start_url = url  # loaded when the page is first needed, instead of the home page
        else:
            self._load(url)

    def _page_url_changed(self, url: str) -> None:
        if is_page_url(url) and url != self._state_url:
            self._state_url = url
            self.state_changed()
