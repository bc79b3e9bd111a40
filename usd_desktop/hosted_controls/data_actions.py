"""The Global Manager's service-desk data actions (usd-reference §2.2, §4.2, §6.3).

- ``DoSearch`` runs a configured entity search: ``$Return`` is the count of every match; the
  session's ``$Search`` root gets ``Name``, ``Count``, and the first match's ``Id`` and
  ``LogicalName``; results lists (EntityList controls) showing that search get the rows.
  ``name=`` (or the first line), ``maxcount=`` (page size, default the search's ``max_count``,
  USD's ``EntitySearchPageCount``), ``page=``, ``global=true`` (the results belong to the global
  session); any other ``key=value`` line is a parameter for the search's replacement parameters
  (``[[key]]``), next to the session's data.
- After a search with a match, the window navigation rules of route type ``on_load`` whose
  ``from_search`` is the search (or unset) route its first match (USD's OnLoad rules).
- ``ClearEntityList`` forgets the session's last search (``$Search``) and empties results lists.
- ``CreateEntity`` (``LogicalName=`` + field lines, USD's typed values allowed; ``$Return`` is the
  new id; ``RunAsync=True`` returns at once and creates in the background), ``UpdateEntity``
  (``LogicalName=``, ``Id=`` + field lines), ``DeleteEntity`` (``LogicalName=``, ``Id=``).
- ``Open_CRM_Page`` / ``New_CRM_Page`` hand the record to the configuration's entity form for that
  entity (an ``EntityForm`` control whose ``entity`` setting matches, else the first one), in the
  session the call runs in.
- ``CopyLogicalEntityToContext`` (``LogicalName=``) copies the session's loaded record of that
  entity into ``$Context`` (``Id``, ``LogicalName``, ``name`` and every field).
- ``SendSurvey`` records a satisfaction survey sent to the customer (a ``survey_response`` with
  ``sent_at`` and no answer yet; ``$Return`` is its id): ``kind=scale|yes_no`` (default
  ``scale``), ``scale_max=`` (a scale's highest score, 2 to 100, default 5), ``question=`` (what the
  customer is asked, kept with the survey), what it is about:
  ``interaction_id=`` and/or ``case_id=`` (the customer, case and channel come from them unless
  given), ``contact_id=``, ``channel=``; other ``field=value`` lines as for ``CreateEntity``.
  ``RecordSurveyAnswer`` (``id=``, ``score=``, ``comment=``) records the answer and ``answered_at``;
  a scale takes 1 to its ``scale_max``, yes/no ``yes``/``no`` (or 1/0) (:func:`survey_score`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError
from usd_desktop.core.navigation import Navigation
from usd_desktop.core.trace import Outcome
from usd_desktop.data.models_work import CHANNELS, SURVEY_KINDS
from usd_desktop.data.search import SearchResult
from usd_desktop.data.services import DataServices, SearchDone
from usd_desktop.data.surveys import SCALE_MAX_LIMIT, survey_score
from usd_desktop.hosted_controls.base import HostedControl, uii_action
from usd_desktop.hosted_controls.records import field_values

if TYPE_CHECKING:
    from usd_desktop.config.schema import EntitySearch
    from usd_desktop.core.dispatcher import CallContext
    from usd_desktop.data.metadata import EntityMeta

#: The control type whose instances ``Open_CRM_Page``/``New_CRM_Page`` are handed to.
FORM_TYPE = "EntityForm"
_TRUE = {"true", "1", "yes"}
SURVEY = "survey_response"
def _first(data: ActionData, *keys: str) -> str:
    for key in keys:
        value = data.take(key)
        if value is not None and value.strip():
            return value.strip()
    found = data.positionals()
    return found[0].strip() if found else ""


def _number(data: ActionData, key: str, action: str) -> int | None:
    raw = data.take(key)
    if raw is None or not raw.strip():
        return None
    try:
        value = int(raw.strip())
    except ValueError:
        raise ActionError(f"{action}: {key}={raw!r} is not a whole number") from None
    if value < 1:
        raise ActionError(f"{action}: {key} must be 1 or more")
    return value


def _first_keyed(data: ActionData, *keys: str) -> str:
    for key in keys:
        value = data.take(key)
        if value is not None and value.strip():
            return value.strip()
    return ""


class DataActions(HostedControl):
    """Mixed into the Global Manager: the actions on service-desk records."""

    # ------------------------------------------------------------------ helpers
    def _entity(self, services: DataServices, data: ActionData, action: str) -> EntityMeta:
        name = _first(data, "LogicalName", "entity", "etn")
        if not name:
            raise ActionError(f"{action} needs LogicalName=<entity>")
        meta = services.entities.get(name) or services.entities.get(name.lower())
        if meta is None:
            raise ActionError(
                f"{action}: unknown entity {name!r} (entities: {', '.join(services.entities)})"
            )
        return meta

    @staticmethod
    def _id(data: ActionData, action: str) -> str:
        value = _first(data, "Id", "entityId", "recordId")
        if not value:
            raise ActionError(f"{action} needs Id=<record id>")
        return value.strip("{}")

    def _search(self, name: str) -> EntitySearch:
        found = self.env.config.entity_searches_by_name.get(name)
        if found is None:
            known = ", ".join(s.name for s in self.env.config.entity_searches) or "none configured"
            raise ActionError(f"DoSearch: no entity search named {name!r} (searches: {known})")
        return found

    # ------------------------------------------------------------------ searches
    @uii_action("DoSearch")
    async def do_search(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        name = _first(data, "name", "search")
        if not name:
            raise ActionError("DoSearch needs name=<entity search>")
        search = self._search(name)
        size = _number(data, "maxcount", "DoSearch")
        page = _number(data, "page", "DoSearch") or 1
        is_global = (data.take("global") or "").strip().lower() in _TRUE
        if size is not None:
            search = search.model_copy(update={"max_count": size})
        session = call.dispatcher.sessions.global_session if is_global else call.session
        params = call.dispatcher.sessions.data_for(call.session, {**call.event, **data.as_dict()})
        result = await services.search(search, params, page=page, session=session)
        first = result.rows[0] if result.rows else {}
        session.store.replace_root(
            "$Search",
            {
                "Name": search.name,
                "Count": str(result.total),
                "Id": str(first.get("id", "")),
                "LogicalName": search.entity if first else "",
            },
        )
        router = self.env.router
        if first and any(r.route_type == "on_load" for r in router.rules.rules):
            # OnLoad rules chain related loads after a search (From Search): the first match is the page
            navigation = Navigation(self.name, "", "on_load", entity=search.entity,
                                    record_id=str(first.get("id", "")), from_search=search.name,
                                    session_id=session.id)
            outcome = await router.route(navigation, session, chain=call.chain)
            if outcome.problems:
                raise ActionError(f"DoSearch {search.name}: " + "; ".join(outcome.problems))
        return str(result.total)

    @uii_action("ClearEntityList")
    def clear_entity_list(self, data: ActionData, call: CallContext) -> None:
        services = self.data_services()
        call.session.store.replace_root("$Search", {})
        services.searched.emit(SearchDone("", "", SearchResult(), 1, call.session))

    # ------------------------------------------------------------------ records
    @uii_action("CreateEntity")
    async def create_entity(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        meta = self._entity(services, data, "CreateEntity")
        run_async = (data.take("RunAsync") or "").strip().lower() in _TRUE
        values = field_values(meta, data)
        if run_async:
            self.env.spawn(services.create(meta.name, values, session=call.session), session=call.session)
            return ""
        return await services.create(meta.name, values, session=call.session)

    @uii_action("UpdateEntity")
    async def update_entity(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        meta = self._entity(services, data, "UpdateEntity")
        record_id = self._id(data, "UpdateEntity")
        values = field_values(meta, data)
        if not values:
            raise ActionError("UpdateEntity needs at least one field=value line")
        await services.update(meta.name, record_id, values, session=call.session)
        return record_id

    @uii_action("DeleteEntity")
    async def delete_entity(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        meta = self._entity(services, data, "DeleteEntity")
        record_id = self._id(data, "DeleteEntity")
        await services.delete(meta.name, record_id, session=call.session)
        return record_id

    # ------------------------------------------------------------------ surveys
    @uii_action("SendSurvey")
    async def send_survey(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        kind = (data.take("kind") or "scale").strip().casefold().replace("-", "_").replace("/", "_")
        if kind not in SURVEY_KINDS:
            raise ActionError(f"SendSurvey: kind={kind!r}: choose {' or '.join(SURVEY_KINDS)}")
        raw_max = (data.take("scale_max") or "").strip()
        if kind == "yes_no":
            if raw_max not in ("", "1"):
                raise ActionError("SendSurvey: scale_max is for kind=scale "
                                  "(a yes/no survey's answers are 1 or 0)")
            scale_max = 1
        else:
            scale_max = 5 if not raw_max else int(raw_max) if raw_max.isdecimal() else 0
            if not 2 <= scale_max <= SCALE_MAX_LIMIT:
                raise ActionError(f"SendSurvey: scale_max={raw_max!r}: a scale's highest score is a whole "
                                  f"number from 2 to {SCALE_MAX_LIMIT}")
        about = {key: (data.take(key) or "").strip().strip("{}") or None
                 for key in ("interaction_id", "case_id", "contact_id", "channel")}
        values: dict[str, Any] = {"kind": kind, "scale_max": scale_max, "sent_at": datetime.now(UTC)}
        for entity, key, fills in (("interaction", "interaction_id", ("case_id", "contact_id", "channel")),
                                   ("case", "case_id", ("contact_id",))):
            if about[key] is None:
                continue
            record = await services.get(entity, str(about[key]))
            if record is None:
                raise ActionError(f"SendSurvey: {key}={about[key]}: there is no such {entity}")
            for name in fills:
                if about[name] is None and record.get(name):
                    about[name] = str(record[name])
        if about["interaction_id"] is None and about["case_id"] is None:
            raise ActionError("SendSurvey needs interaction_id=<interaction> or case_id=<case> "
                              "(what the customer is asked about)")
        if about["channel"] is not None and about["channel"] not in CHANNELS:
            raise ActionError(f"SendSurvey: channel={about['channel']!r}: choose {', '.join(CHANNELS)}")
        values.update((k, v) for k, v in about.items() if v is not None)
        meta = services.entities[SURVEY]
        question = (data.take("question") or "").strip()
        if question:
            values["question"] = question[:300]
        extra = field_values(meta, data)
        if "score" in extra or "answered_at" in extra:
            raise ActionError("SendSurvey records a survey sent, not answered: "
                              "RecordSurveyAnswer records the answer")
        values.update(extra)
        return await services.create(SURVEY, values, session=call.session)

    @uii_action("RecordSurveyAnswer")
    async def record_survey_answer(self, data: ActionData, call: CallContext) -> str:
        services = self.data_services()
        survey = _first_keyed(data, "id", "Id", "survey_id").strip("{}")
        raw = (data.take("score") or "").strip()
        if not survey or not raw:
            raise ActionError("RecordSurveyAnswer needs id=<survey> and score=<the customer's answer>")
        record = await services.get(SURVEY, survey)
        if record is None:
            raise ActionError(f"RecordSurveyAnswer: there is no survey {survey!r}")
        try:
            score = survey_score(str(record.get("kind") or "scale"), int(record.get("scale_max") or 5), raw)
        except ValueError as exc:
            raise ActionError(f"RecordSurveyAnswer {survey}: {exc}") from None
        values: dict[str, Any] = {"score": score, "answered_at": datetime.now(UTC)}
        comment = (data.take("comment") or "").strip()
        if comment:
            values["comment"] = comment
        await services.update(SURVEY, survey, values, session=call.session)
        return survey

    # ------------------------------------------------------------------ forms
    def _form_for(self, entity: str, action: str) -> str:
        forms = [c for c in self.env.config.hosted_controls if c.type == FORM_TYPE]
        for form in forms:
            if str(form.settings.get("entity", "")).casefold() == entity.casefold():
                return form.name
        if not forms:
            raise ActionError(f"{action}: the configuration has no {FORM_TYPE} control to show {entity}")
        return forms[0].name

    async def _to_form(self, action: str, data: ActionData, call: CallContext) -> str | None:
        services = self.data_services()
        meta = self._entity(services, data.copy(), action)
        # Open_CRM_Page and New_CRM_Page go through the window navigation rules (usd-reference §5.2)
        values = data.copy()
        for key in ("LogicalName", "entity", "etn"):
            values.take(key)
        record_id = _first_keyed(values, "Id", "entityId", "recordId").strip("{}") or None
        navigation = Navigation(self.name, "", "popup", entity=meta.name,
                                record_id=record_id if action == "Open_CRM_Page" else None,
                                session_id=call.session.id)
        routed = await self.env.router.route(navigation, call.session, chain=call.chain,
                                             values=values.as_dict() if action == "New_CRM_Page" else None)
        if routed.handled:
            if routed.problems:
                raise ActionError(f"{action}: " + "; ".join(routed.problems))
            return record_id or routed.session_id
        form = self._form_for(meta.name, action)
        outcome = await call.dispatcher.run_action(
            form, action, data.raw, session=call.session, chain=call.chain, literal=True
        )
        if outcome.outcome is not Outcome.RAN:
            raise ActionError(f"{action} on {form}: {outcome.reason}")
        return outcome.result

    @uii_action("Open_CRM_Page")
    async def open_crm_page(self, data: ActionData, call: CallContext) -> str | None:
        return await self._to_form("Open_CRM_Page", data, call)

    @uii_action("New_CRM_Page")
    async def new_crm_page(self, data: ActionData, call: CallContext) -> str | None:
        return await self._to_form("New_CRM_Page", data, call)

    @uii_action("CopyLogicalEntityToContext")
    def copy_logical_entity_to_context(self, data: ActionData, call: CallContext) -> None:
        entity = _first(data, "LogicalName", "entity")
        if not entity:
            raise ActionError("CopyLogicalEntityToContext needs LogicalName=<entity>")
        values: dict[str, Any] = dict(call.session.store.section(entity))
        if not values:
            raise ActionError(f"CopyLogicalEntityToContext: no {entity} record is loaded in this session")
        services = self.env.data
        meta = services.entities.get(entity) if services is not None else None
        if meta is not None:
            values.setdefault("name", values.get(meta.primary_name, ""))
        values.setdefault("LogicalName", entity)
        call.session.store.update("$Context", values)

