"""The built-in hosted-control types, as data.

pyproject.toml registers each of these under the entry-point group ``usd_desktop.hosted_controls``,
exactly as a partner's package registers its own: the desktop discovers built-ins and plugins the
same way. Importing this module is cheap (no Qt); the ``factory`` is imported only when used.
A test checks that every type's ``actions`` match what its implementation provides.
"""

from __future__ import annotations

from usd_desktop.hosted_controls.base import ControlType

GLOBAL_MANAGER = ControlType(
    name="GlobalManager",
    factory="usd_desktop.hosted_controls.global_manager:GlobalManager",
    description="The core of the desktop: desktop-wide actions, settings, messages, DesktopReady.",
    actions=frozenset(
        {
            "CopyToContext", "Pause", "SaveSetting", "ReadSettings", "DisplayMessage",
            "ShowTab", "CopyToClipboard", "LaunchURL", "ExecuteScriptlet", "SetTheme", "ShowAbout",
            "CreateSession", "CloseSession", "CloseActive", "SwitchSession", "RedoScreenPop",
            "DoSearch", "ClearEntityList", "CreateEntity", "UpdateEntity", "DeleteEntity",
            "Open_CRM_Page", "New_CRM_Page", "CopyLogicalEntityToContext",
            "SendSurvey", "RecordSurveyAnswer",
        }
    ),
    events=frozenset({"DesktopReady", "SessionNew", "SessionActivated", "SessionDeactivated",
                      "SessionCloseRequested", "SessionClosing", "SessionClosed", "PopupRouted",
                      "CaseResolved", "CaseClosed", "CaseReopened", "CaseEscalated", "CaseFollowUp"}),
    singleton=True,
    default_panel="HiddenPanel",
)

CONNECTION_MANAGER = ControlType(
    name="ConnectionManager",
    factory="usd_desktop.hosted_controls.global_manager:ConnectionManager",
    description="Owns the connection to the configuration and data stores.",
    singleton=True,
    default_panel="HiddenPanel",
)

PANEL_LAYOUT = ControlType(
    name="PanelLayout",
    factory="usd_desktop.hosted_controls.qt.panel_layout:PanelLayoutControl",
    description="Arranges the desktop's panels (tab, stack, deck, collapse, floating).",
    actions=frozenset({"SetVisualProperty"}),
    singleton=True,
    needs_qt=True,
    default_panel="MainWorkArea",
)

TOOLBAR_CONTAINER = ControlType(
    name="ToolbarContainer",
    factory="usd_desktop.hosted_controls.qt.toolbar_container:ToolbarContainer",
    description="Shows the configured toolbars and their buttons.",
    actions=frozenset({"ShowToolbar", "HideToolbar", "EnableToolbarButton",
                       "DisableToolbarButton"}),
    needs_qt=True,
    default_panel="ToolbarPanel",
)

STANDARD_WEB_APPLICATION = ControlType(
    name="StandardWebApplication",
    factory="usd_desktop.hosted_controls.qt.web_application:StandardWebApplication",
    description="Hosts any web page (QtWebEngine); pages raise events through https://event/.",
    actions=frozenset({"Navigate", "Popup", "GoBack", "GoForward", "GoHome", "RunScript", "Refresh"}),
    events=frozenset({"BrowserDocumentComplete", "PageReady", "PopupRouted"}),
    needs_qt=True,
)

DEBUGGER = ControlType(
    name="Debugger",
    factory="usd_desktop.hosted_controls.qt.debugger:DebuggerControl",
    description="Live trace of action calls, the data parameters, and a place to run actions.",
    actions=frozenset({"SetReplacementParameter", "TestScriptlet", "Clear", "FindTrace"}),
    needs_qt=True,
)

ENTITY_FORM = ControlType(
    name="EntityForm",
    factory="usd_desktop.hosted_controls.qt.entity_form:EntityForm",
    description="Opens, creates, edits, validates and saves a record of any entity, with its related "
    "records in sub-lists; the loaded record becomes [[entity.field]] in the session.",
    actions=frozenset({"Open_CRM_Page", "New_CRM_Page", "Save", "Refresh", "SetFieldValues",
                       "ResolveCase", "CloseCase", "ReopenCase", "EscalateCase"}),
    events=frozenset({"DataReady", "Saved", "RecordSelected", "PopupRouted"}),
    needs_qt=True,
)

ENTITY_LIST = ControlType(
    name="EntityList",
    factory="usd_desktop.hosted_controls.qt.entity_list:EntityList",
    description="Shows the results of an entity search (DoSearch or its own) and opens the chosen record.",
    actions=frozenset({"Search", "Clear", "NextPage", "PreviousPage"}),
    events=frozenset({"RecordSelected", "SearchCompleted"}),
    needs_qt=True,
)

KNOWLEDGE_SEARCH = ControlType(
    name="KnowledgeSearch",
    factory="usd_desktop.hosted_controls.qt.knowledge_search:KnowledgeSearchControl",
    description="Ranked, phonetic and fuzzy search of the knowledge articles while the agent types; "
    "copies an article into a note or a reply.",
    actions=frozenset({"Search", "Clear", "OpenArticle", "CopyToNote"}),
    events=frozenset({"ArticleSelected", "ArticleCopied"}),
    needs_qt=True,
)

INTERACTION_HISTORY = ControlType(
    name="InteractionHistory",
    factory="usd_desktop.hosted_controls.qt.history:InteractionHistory",
    description="One timeline of the customer's interactions, cases and notes across channels.",
    actions=frozenset({"Load", "Refresh", "Filter"}),
    events=frozenset({"ItemSelected"}),
    needs_qt=True,
)

NOTES = ControlType(
    name="Notes",
    factory="usd_desktop.hosted_controls.qt.notes:NotesControl",
    description="Notes on the customer or case, saved as the agent types and never lost on a crash.",
    actions=frozenset({"Attach", "AppendText", "Save", "New", "UpdateReplacementParameters"}),
    events=frozenset({"Loaded", "NoteSaved"}),
    needs_qt=True,
    default_panel="RightPanel",
)

SESSION_TABS = ControlType(
    name="SessionTabs",
    factory="usd_desktop.hosted_controls.qt.session_tabs:SessionTabsControl",
    description="The customer sessions' tab strip: switch, close, timers, attention and progress marks.",
    actions=frozenset({"SwitchSession", "CloseSession", "CloseActive", "ShowAttention", "HideAttention",
                       "ResetProgressIndicator", "HideProgressIndicator", "RedoScreenPop"}),
    events=frozenset({"SessionCloseRequested", "SessionClosing", "SessionClosed"}),
    singleton=True,
    needs_qt=True,
    default_panel="SessionTabsPanel",
)

SESSION_OVERVIEW = ControlType(
    name="SessionOverview",
    factory="usd_desktop.hosted_controls.qt.session_overview:SessionOverviewControl",
    description="The active session's name and overview lines (USD Session Lines).",
    needs_qt=True,
    default_panel="SessionExplorerPanel",
)

AGENT_SCRIPTING = ControlType(
    name="AgentScripting",
    factory="usd_desktop.hosted_controls.qt.agent_script:AgentScriptControl",
    description="Guided call and chat scripts: tasks, answers, history, checklists.",
    actions=frozenset({"GoToTask", "GotoTaskByDnis", "Back", "MainMenu", "StartScript"}),
    events=frozenset({"TaskUpdated", "AllAnswersVisited", "AnswerChosen"}),
    needs_qt=True,
    default_panel="WorkflowPanel",
)

CTI_DESKTOP_MANAGER = ControlType(
    name="CtiDesktopManager",
    factory="usd_desktop.hosted_controls.cti_desktop:CtiDesktopManager",
    description="A CTI adapter in the desktop: screen pops through the CTI rules, call control, agent state.",
    actions=frozenset({
        "Dial", "Answer", "Reject", "Hangup", "Hold", "Retrieve", "Mute", "Unmute", "SendDtmf",
        "Transfer", "Consult", "CompleteTransfer", "CancelTransfer", "Conference", "StartRecording",
        "StopRecording", "SetAgentState", "CompleteWrapUp", "Login", "Logout", "SelectCall", "Pop",
        "SimulateCall",
    }),
    events=frozenset({
        "CallOffered", "CallAnswered", "CallHeld", "CallRetrieved", "CallEnded", "CallMissed",
        "CallTransferred", "CallConferenced", "DtmfReceived", "WrapUpStarted", "WrapUpCompleted",
        "AgentStateChanged", "ConnectionChanged",
    }),
    default_panel="HiddenPanel",
)

CALL_CONTROL = ControlType(
    name="CallControl",
    factory="usd_desktop.hosted_controls.qt.call_control:CallControl",
    description="The call bar: number, caller, timer and state of each line, call buttons, dial pad, "
    "transfer and consult with a directory, the wrap-up countdown.",
    actions=frozenset({"ShowDialPad", "ShowTransfer"}),
    needs_qt=True,
    default_panel="CtiPanel",
)

AGENT_STATE_SELECTOR = ControlType(
    name="AgentStateSelector",
    factory="usd_desktop.hosted_controls.qt.agent_state:AgentStateSelector",
    description="The agent's state (available, not ready with a reason, offline) and the connection.",
    needs_qt=True,
    default_panel="CtiPanel",
)

AGENT_DASHBOARD = ControlType(
    name="AgentDashboard",
    factory="usd_desktop.hosted_controls.qt.dashboards:AgentDashboard",
    description="The signed-in agent's figures for today (handled, AHT, ACW, hold, transfers, FCR, "
    "CSAT, occupancy) and calls per hour, updated as calls happen.",
    actions=frozenset({"Refresh"}),
    needs_qt=True,
    default_panel="RightPanel",
)

TEAM_DASHBOARD = ControlType(
    name="TeamDashboard",
    factory="usd_desktop.hosted_controls.qt.dashboards:TeamDashboard",
    description="The supervisor's live team view: agent states, calls waiting, service level and "
    "abandonment today with threshold alerts, and trends over days.",
    actions=frozenset({"Refresh", "ShowTab"}),
    events=frozenset({"ThresholdCrossed", "ThresholdCleared"}),
    needs_qt=True,
    default_panel="BottomPanel",
)

BROADCASTS = ControlType(
    name="Broadcasts",
    factory="usd_desktop.hosted_controls.qt.broadcasts_widget:BroadcastsControl",
    description="Broadcast messages: a supervisor sends one to all agents or a queue; every desktop it is "
    "for announces it once (event, [[Broadcasts.title]], a message) and lists it until it expires.",
    actions=frozenset({"Broadcast", "Dismiss"}),
    events=frozenset({"BroadcastReceived"}),
    needs_qt=True,
    default_panel="StatusPanel",
)

BUILTIN_TYPES = (
    GLOBAL_MANAGER,
    CONNECTION_MANAGER,
    PANEL_LAYOUT,
    TOOLBAR_CONTAINER,
    STANDARD_WEB_APPLICATION,
    DEBUGGER,
    ENTITY_FORM,
    ENTITY_LIST,
    KNOWLEDGE_SEARCH,
    INTERACTION_HISTORY,
    NOTES,
    SESSION_TABS,
    SESSION_OVERVIEW,
    AGENT_SCRIPTING,
    CTI_DESKTOP_MANAGER,
    CALL_CONTROL,
    AGENT_STATE_SELECTOR,
    AGENT_DASHBOARD,
    TEAM_DASHBOARD,
    BROADCASTS,
)
