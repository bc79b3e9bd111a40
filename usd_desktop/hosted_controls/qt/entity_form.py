"""EntityForm: opens, creates, edits, validates and saves a record of any entity (USD's CRM Page).

The form is drawn from the entity metadata (:mod:`.entity_editors`): labels, required marks,
option sets as drop-downs, lookups as the related record's name, read-only fields read-only.
Below it, related records in sub-lists (:class:`~.entity_list.RelatedList`).

Settings (the hosted control's ``settings``):

* ``entity``: the entity ``New_CRM_Page`` makes when it names none;
* ``fields``: the fields shown (a list for the ``entity`` setting, or ``{entity: [fields]}``);
  default: the primary name, then every writable field;
* ``read_only``: fields shown but not editable (a list, or ``{entity: [fields]}``);
* ``related``: the sub-lists, each ``{title, entity, field, columns, filters, order_by, max_count,
  open_in}`` where ``field`` is the related entity's lookup to the record (a sub-list shows when
  that lookup refers to the entity shown). Default: open cases and recent interactions of a
  contact or an account; interactions and notes of a case. ``related: []`` shows none.

Actions: ``Open_CRM_Page`` (``LogicalName``, ``id``), ``New_CRM_Page`` (``LogicalName`` and
``field=value`` lines), ``Save``, ``Refresh``, ``SetFieldValues``, and on a case ``ResolveCase``
(``resolution``), ``CloseCase``, ``ReopenCase``, ``EscalateCase`` (``reason``, ``next_steps``,
``promised_by``, ``level``). Events: ``DataReady`` (``LogicalName``, ``Id``), ``Saved``
(``newId``, ``LogicalName``, ``Id``), ``RecordSelected`` (``LogicalName``, ``Id``) when the agent
chooses a row of a sub-list. The loaded record is ``[[entity.field]]`` in the form's session.

Unsaved edits are kept in the crash-safe drafts (``form:<control>:<entity>:<id or new>``) while
the agent types and when the form closes, restored when the record is opened again, and dropped
once saved.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QWidget

from usd_desktop.core.datafield import ActionData
from usd_desktop.core.errors import ActionError, UsdError
from usd_desktop.core.navigation import Navigation
from usd_desktop.data.errors import DataError
from usd_desktop.data.metadata import EntityMeta
from usd_desktop.data.services import RecordChange
from usd_desktop.hosted_controls.base import uii_action
from usd_desktop.hosted_controls.catalog import ENTITY_FORM
from usd_desktop.hosted_controls.navigation_router import RoutedPage
from usd_desktop.hosted_controls.qt.base import QtHostedControl
from usd_desktop.hosted_controls.qt.entity_editors import (
    EntityFormWidget,
    FieldEditor,
    FieldGrid,
    humanise,
)
from usd_desktop.hosted_controls.qt.entity_list import DEFAULT_RELATED, RelatedList, RelatedSpec
from usd_desktop.hosted_controls.records import field_values, publish_record, text

if TYPE_CHECKING:
    from usd_desktop.core.dispatcher import CallContext

log = logging.getLogger(__name__)
_FIELD_IN_ERROR = re.compile(r"field '([A-Za-z_][A-Za-z0-9_]*)'")


class EntityForm(QtHostedControl):
    """A metadata-driven record form with its related records (USD CRM Page / UCI Page)."""

    control_type = ENTITY_FORM

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entity: str | None = None
        self.record: dict[str, Any] | None = None
        self.loading = False
        self.saving = False
        self._hidden_base: dict[str, Any] = {}  # prefilled values of fields not shown (new records)
        self._hidden_dirty: dict[str, Any] = {}  # values set for fields not shown, not saved yet
        self._prefill: dict[str, Any] = {}
        self._token = 0
        self._writing = False
        self._stale: set[RelatedList] = set()
        services = self.env.data
        if services is not None:
            self.keep(services.changed.connect(self._on_changed))

    # ------------------------------------------------------------------ widget
    def create_widget(self) -> QWidget:
        widget = EntityFormWidget(self.run_own, self.write_draft)
        widget.destroyed.connect(lambda *_: self._widget_destroyed(widget))
        return widget

    def _widget_destroyed(self, widget: QWidget) -> None:
        if self._widget is widget:
            self._widget = None

    def form(self) -> EntityFormWidget:
        widget = self.widget()
        assert isinstance(widget, EntityFormWidget)
        return widget

    @property
    def form_widget(self) -> EntityFormWidget | None:
        widget = self._widget
        return widget if isinstance(widget, EntityFormWidget) else None

    @property
    def editors(self) -> Mapping[str, FieldEditor]:
        widget = self.form_widget
        return widget.grid.editors if widget is not None and widget.grid is not None else {}

    @property
    def record_id(self) -> str | None:
        return None if self.record is None or not self.record.get("id") else str(self.record["id"])

    @property
    def is_new(self) -> bool:
        return self.entity is not None and self.record_id is None

    @property
    def dirty(self) -> bool:
        return bool(self._dirty_values())

    def run_own(self, action: str, data: str = "") -> None:
        """Run one of this form's actions through the dispatcher (buttons, Ctrl+S): the trace shows it."""
        self.env.spawn(self.env.dispatcher.run_action(self.name, action, data, session=self.session,
                                                      literal=True), session=self.session)

    # ------------------------------------------------------------------ metadata and settings
    def _meta(self, entity: str) -> EntityMeta:
        entities = self.data_services().entities
        meta = entities.get(entity)
        if meta is None:
            raise ActionError(f"{self.name}: unknown entity {entity!r} (entities: {', '.join(entities)})")
        return meta

    def _per_entity(self, key: str, entity: str) -> list[str] | None:
        raw = self.settings.get(key)
        if isinstance(raw, Mapping):
            found = raw.get(entity)
            return [str(n) for n in found] if isinstance(found, list) else None
        if isinstance(raw, list):
            default = str(self.settings.get("entity") or "")
            return [str(n) for n in raw] if not default or default == entity else None
        return None

    def _field_names(self, meta: EntityMeta) -> tuple[list[str], list[str]]:
        """The fields shown, and the problems of the ``fields`` setting."""
        wanted = self._per_entity("fields", meta.name)
        if wanted is None:
            rest = [n for n, f in meta.fields.items() if not f.read_only and n != meta.primary_name]
            return [meta.primary_name, *rest], []
        problems = [f"settings.fields: entity {meta.name!r} has no field {n!r}"
                    for n in wanted if n not in meta.fields]
        return [n for n in wanted if n in meta.fields], problems

    def _related_specs(self, entity: str) -> tuple[list[RelatedSpec], list[str]]:
        entities = self.data_services().entities
        raw = self.settings.get("related")
        problems: list[str] = []
        specs: list[RelatedSpec] = []
        if isinstance(raw, list):
            for index, item in enumerate(raw):
                try:
                    spec = RelatedSpec.parse(item, entities, f"{self.name} settings.related[{index}]")
                except ValueError as exc:
                    problems.append(str(exc))
                    continue
                if spec.applies_to(entity, entities):
                    specs.append(spec)
            if specs or not raw:
                return specs, problems
        for index, item in enumerate(DEFAULT_RELATED.get(entity, [])):
            try:
                specs.append(RelatedSpec.parse(item, entities, f"default related[{index}]"))
            except ValueError as exc:  # a partner's repository without these fields
                log.debug("%s", exc)
        return specs, problems

    # ------------------------------------------------------------------ showing a record
    def _show(self, entity: str, record: dict[str, Any], *, prefill: Mapping[str, Any] | None = None) -> None:
        """Show ``record`` (without an id: a new one) with ``prefill`` as its values."""
        meta = self._meta(entity)
        widget = self.form()
        widget.hide_bars(*self.__dict__.pop("_routed_bars", (False, False)))  # a routed page's choice
        names, problems = self._field_names(meta)
        grid = widget.grid
        if grid is None or grid.meta is not meta or list(grid.editors) != names:
            read_only = self._per_entity("read_only", entity) or []
            grid = FieldGrid(meta, names, read_only, self._on_edit)
            widget.set_grid(grid)
        if self.entity != entity or not widget.related:
            specs, related_problems = self._related_specs(entity)
            problems += related_problems
            widget.set_related([self._make_related(spec) for spec in specs])
        self.entity = entity
        self.record = record
        self._hidden_dirty = {}
        values = dict(record)
        values.update(prefill or {})
        self._hidden_base = {k: v for k, v in (prefill or {}).items() if k not in grid.editors}
        grid.load(values)
        widget.show_notice("; ".join(problems))
        self._resolve_lookups()
        self._refresh_header()
        widget.show_related(self.record_id is not None)
        if self.record_id is not None:
            for item in widget.related:
                self._stale.add(item)
            self.env.spawn(self._reload_stale(), session=self.session)
        else:
            for item in widget.related:
                item.clear()
            widget.update_captions()

    def _make_related(self, spec: RelatedSpec) -> RelatedList:
        item = RelatedList(spec)
        item.table.record_chosen.connect(lambda entity, ident, s=spec: self._related_chosen(s, entity, ident))
        return item

    def _refresh_header(self) -> None:
        widget = self.form_widget
        if widget is None:
            return
        entity, record = self.entity, self.record or {}
        if entity is None:
            return
        meta = self.data_services().entities.get(entity)
        label = humanise(entity)
        if self.record_id is None:
            widget.title.setText(f"New {label.lower()}")
            widget.subtitle.setText(label)
        else:
            name = record.get(meta.primary_name) if meta is not None else None
            widget.title.setText(text(name) or f"{label} {self.record_id}")
            parts = [label]
            if entity == "case":
                parts += [text(record.get("case_number")), humanise(text(record.get("status")))]
            widget.subtitle.setText(" · ".join(p for p in parts if p))
        state = "Saving…" if self.saving else "Loading…" if self.loading else (
            "● Unsaved changes" if self.dirty else "")
        widget.state.setText(state)
        widget.save.setEnabled(not self.saving and not self.loading and (self.is_new or self.dirty))
        status = text(record.get("status"))
        is_case = entity == "case" and self.record_id is not None
        enabled = {
            "ResolveCase": status not in ("resolved", "closed"),
            "CloseCase": status != "closed",
            "ReopenCase": status in ("resolved", "closed"),
            "EscalateCase": status not in ("resolved", "closed"),
        }
        for action, button in widget.case_buttons.items():
            button.setVisible(is_case and not widget.hide_command_bar)
            button.setEnabled(is_case and enabled[action] and not self.saving)

    def _resolve_lookups(self) -> None:
        pending = [e for e in self.editors.values() if e.meta.type == "lookup" and e.lookup_id]
        if pending:
            self.env.spawn(self._lookup_names(pending), session=self.session)

    async def _lookup_names(self, editors: list[FieldEditor]) -> None:
        services = self.data_services()
        for editor in editors:
            ident, entity = editor.lookup_id, editor.meta.lookup
            if ident is None or entity is None or entity not in services.entities:
                continue
            try:
                found = await services.get(entity, ident)
            except UsdError:
                continue
            if self.closed or editor.lookup_id != ident:
                continue
            try:
                name = None if found is None else text(found.get(services.entities[entity].primary_name))
                editor.set_lookup_name(name or None)
            except RuntimeError:  # the widget went away meanwhile
                return

    # ------------------------------------------------------------------ editing and drafts
    def _on_edit(self, name: str) -> None:
        widget = self.form_widget
        if widget is None or self.entity is None:
            return
        widget.draft_timer.start()
        self._refresh_header()

    def _dirty_values(self) -> dict[str, Any]:
        widget = self.form_widget
        values = widget.grid.dirty_values() if widget is not None and widget.grid is not None else {}
        values.update(self._hidden_dirty)
        return values

    def draft_key(self, entity: str | None = None, ident: str | None = None) -> str:
        entity = entity or self.entity or ""
        ident = ident if ident is not None else self.record_id
        return f"form:{self.name}:{entity}:{ident or 'new'}"

    def write_draft(self) -> None:
        """Keep the unsaved edits (or drop the draft when there are none): while typing and on close."""
        services = self.env.data
        widget = self.form_widget
        if services is None or self.entity is None or widget is None:
            return  # without the editors there is nothing new to keep (the last draft stays)
        widget.draft_timer.stop()
        values = self._dirty_values()
        key = self.draft_key()
        try:
            if values:
                services.drafts.put(key, {"entity": self.entity, "id": self.record_id, "values": values,
                                          "prefill": self._prefill, "saved_at": datetime.now().isoformat()})
            else:
                services.drafts.delete(key)
        except Exception as exc:  # the drafts file gone (closed, disk full): the form stays up
            log.error("%s: the draft %s could not be written: %s", self.name, key, exc)

    def _restore_draft(self) -> bool:
        services = self.data_services()
        draft = services.drafts.get(self.draft_key())
        if draft is None:
            return False
        payload = draft.payload
        if self.is_new and payload.get("prefill", {}) != self._prefill:
            return False  # a new record started from other values: not this one
        values = payload.get("values") or {}
        editors = self.editors
        for name, value in values.items():
            if name in editors:
                editors[name].set_value(value)
            elif self.entity is not None and name in self._meta(self.entity).fields:
                self._hidden_dirty[name] = value
        when = datetime.fromtimestamp(draft.updated).strftime("%H:%M")
        self.form().show_notice(f"Your unsaved changes from {when} were restored.", "info")
        self._refresh_header()
        return True

    def _flush(self) -> None:
        widget = self.form_widget
        if widget is not None and widget.draft_timer.isActive():
            self.write_draft()

    # ------------------------------------------------------------------ errors
    def _show_error(self, exc: Exception, fallback_field: str | None = None) -> str:
        message = str(exc)
        match = _FIELD_IN_ERROR.search(message)
        name = match.group(1) if match else fallback_field
        editor = self.editors.get(name) if name else None
        if editor is not None:
            editor.set_error(message)
            editor.input.setFocus()
        widget = self.form_widget
        if widget is not None:
            widget.show_notice(message, "error")  # also fits the fields to their new height
        return message

    def _clear_errors(self) -> None:
        widget = self.form_widget
        if widget is not None:
            if widget.grid is not None:
                widget.grid.clear_errors()
            widget.show_notice("")

    # ------------------------------------------------------------------ loading
    async def _open(self, entity: str, ident: str, *, announce: bool = True) -> dict[str, Any]:
        services = self.data_services()
        self._meta(entity)
        self._flush()
        self._token += 1
        token = self._token
        self.loading = True
        self._refresh_header()
        try:
            record = await services.get(entity, ident)
        except DataError as exc:
            raise ActionError(f"{self.name}: {exc}") from None
        finally:
            if token == self._token:
                self.loading = False
        if record is None:
            self._refresh_header()
            raise ActionError(f"{self.name}: entity {entity!r} has no record with id {ident!r}")
        if token != self._token or self.closed:
            return record  # a later Open overtook this one
        self._prefill = {}
        self._show(entity, record)
        self._restore_draft()
        publish_record(self.session, entity, record)
        self.publish({"LogicalName": entity, "Id": ident})
        if announce:
            self.raise_event("DataReady", {"LogicalName": entity, "Id": ident})
        self.state_changed()
        return record

    def _reload_soon(self, item: RelatedList) -> None:
        first = not self._stale
        self._stale.add(item)
        if first:
            self.env.spawn(self._reload_stale(), session=self.session)

    async def _reload_stale(self) -> None:
        await asyncio.sleep(0)  # gather a burst of changes into one reload per list
        services = self.env.data
        stale, self._stale = self._stale, set()
        ident = self.record_id
        widget = self.form_widget
        if services is None or ident is None or widget is None or self.closed:
            return
        data = self.env.dispatcher.sessions.data_for(self.session)
        for item in stale:
            if item not in widget.related:
                continue
            try:
                await item.load(services, ident, data)
            except RuntimeError:  # the sub-list's widget was deleted meanwhile
                continue
            if self.form_widget is widget:
                widget.update_captions()

    def _on_changed(self, change: RecordChange) -> None:
        widget = self.form_widget
        if self.closed or widget is None:
            return
        for item in widget.related:
            if item.spec.entity == change.entity:
                self._reload_soon(item)
        if change.entity == self.entity and change.id == self.record_id and not self._writing:
            self.env.spawn(self._changed_elsewhere(change), session=self.session)

    async def _changed_elsewhere(self, change: RecordChange) -> None:
        if change.kind == "deleted":
            self.form().show_notice("This record was deleted elsewhere.", "error")
            return
        services = self.data_services()
        ident, entity = self.record_id, self.entity
        if ident is None or entity is None:
            return
        record = await services.get(entity, ident)
        if record is not None and not self.closed and self.record_id == ident:
            self._apply_saved(record)
            self.form().show_notice("This record was changed elsewhere; the form shows the new values.",
                                    "info")

    def _apply_saved(self, record: dict[str, Any], sent: Mapping[str, Any] | None = None) -> None:
        """Take ``record`` as the saved state, keeping the edits the agent made since. An editor
        still holding what was just saved (``sent``) shows the record's value, also when the data
        kept another one (a customer's ``phone`` saved empty stays as stored)."""
        self.record = record
        sent = sent or {}
        for editor in self.editors.values():
            current, was_dirty = editor.value(), editor.dirty
            saved = editor.meta.name in sent and sent[editor.meta.name] == editor.typed_value()
            editor.set_value(record.get(editor.meta.name), original=True)
            if was_dirty and not saved and current != editor.value():
                editor.set_value(current)
        self._resolve_lookups()
        if self.entity is not None:
            publish_record(self.session, self.entity, record)
        self._refresh_header()
        self.write_draft()

    # ------------------------------------------------------------------ values from action data
    def _values_from(self, data: ActionData, meta: EntityMeta, action: str) -> dict[str, Any]:
        """The ``field=value`` lines of an action (USD's typed values allowed), for editable fields."""
        try:
            values = field_values(meta, data)
        except ActionError as exc:
            raise ActionError(f"{self.name} {action}: {exc}") from None
        for name in values:
            if meta.fields[name].read_only:
                raise ActionError(f"{self.name} {action}: field {name!r} of {meta.name!r} is read-only")
        return values

    # ------------------------------------------------------------------ UII actions
    @uii_action("Open_CRM_Page")
    async def open_crm_page(self, data: ActionData, call: CallContext) -> str:
        entity = (data.take("LogicalName") or data.take("entity") or "").strip()
        ident = data.take("id") or data.take("entityId") or data.take("entity_id") or ""
        ident = ident.strip().strip("{}").strip()
        if not entity:
            raise ActionError(f"{self.name}: Open_CRM_Page needs LogicalName=<entity>")
        if not ident:
            raise ActionError(f"{self.name}: Open_CRM_Page needs id=<record id> (LogicalName={entity})")
        self._meta(entity)
        if not await self._routed("Open_CRM_Page", entity, ident, {}, call):
            await self._open(entity, ident)
        return ident

    @uii_action("New_CRM_Page")
    async def new_crm_page(self, data: ActionData, call: CallContext) -> None:
        entity = (data.take("LogicalName") or data.take("entity") or "").strip()
        entity = entity or str(self.settings.get("entity") or "").strip()
        if not entity:
            raise ActionError(f"{self.name}: New_CRM_Page needs LogicalName=<entity> (or the entity setting)")
        meta = self._meta(entity)
        values = self._values_from(data, meta, "New_CRM_Page")
        texts = {k: text(v) for k, v in values.items()}
        if not await self._routed("New_CRM_Page", entity, None, texts, call):
            self._start_new(entity, meta, values)

    async def _routed(self, action: str, entity: str, ident: str | None, values: dict[str, str],
                      call: CallContext) -> bool:
        """Open_CRM_Page and New_CRM_Page go through the window navigation rules (a pop-up of the
        record from this form); True when a rule took the page elsewhere."""
        navigation = Navigation(self.name, "", "popup", entity=entity, record_id=ident,
                                session_id=self.session.id)
        outcome = await self.env.router.route(navigation, self.session, chain=call.chain, values=values)
        if outcome.problems:
            raise ActionError(f"{self.name} {action}: " + "; ".join(outcome.problems))
        return outcome.handled

    def _start_new(self, entity: str, meta: EntityMeta, prefill: dict[str, Any]) -> None:
        self._flush()
        self._token += 1
        self._prefill = {k: text(v) if not isinstance(v, bool) else v for k, v in prefill.items()}
        self._show(entity, _defaults(meta), prefill=prefill)
        self._restore_draft()
        self.publish({"LogicalName": entity, "Id": ""})
        self.state_changed()
        first = next((e for e in self.editors.values() if not e.read_only), None)
        if first is not None:
            first.input.setFocus()

    @uii_action("Save")
    async def save(self, data: ActionData, call: CallContext) -> str:
        entity = self.entity
        if entity is None:
            raise ActionError(f"{self.name}: Save: no record open")
        services = self.data_services()
        self._clear_errors()
        new = self.is_new
        editors = self.editors
        if new:
            values = dict(self._hidden_base)
            values.update({n: e.typed_value() for n, e in editors.items() if not e.read_only})
            values.update(self._hidden_dirty)
            values = {k: v for k, v in values.items() if v is not None}
        else:
            values = {n: e.typed_value() for n, e in editors.items() if not e.read_only and e.dirty}
            values.update(self._hidden_dirty)
        old_key = self.draft_key()
        ident = self.record_id
        if not new and not values:
            self.form().show_notice("No changes to save.", "info")
            return ident or ""
        self.saving = True
        self._writing = True
        self._refresh_header()
        try:
            if new:
                ident = await services.create(entity, values, session=self.session)
                record = await services.get(entity, ident) or dict(values, id=ident)
            else:
                assert ident is not None
                record = await services.update(entity, ident, values, session=self.session)
        except DataError as exc:
            self._show_error(exc)
            raise ActionError(f"{self.name}: {exc}") from None
        finally:
            self.saving = False
            self._writing = False
            self._refresh_header()
        services.drafts.delete(old_key)
        if self.closed or new:
            publish_record(self.session, entity, record)
        if new and not self.closed:
            self._prefill = {}
            self._show(entity, record)
        elif not self.closed:
            self._hidden_dirty = {}
            self._apply_saved(record, values)  # keeps what the agent typed while it saved (and its draft)
        if not self.closed:
            self.form().show_notice("Saved.", "info")
        self.publish({"LogicalName": entity, "Id": ident})
        self.raise_event("Saved", {"newId": ident, "LogicalName": entity, "Id": ident})
        return ident

    @uii_action("Refresh")
    async def refresh(self, data: ActionData, call: CallContext) -> str | None:
        if self.entity is None or self.record_id is None:
            return None
        ident = self.record_id
        await self._open(self.entity, ident)
        return ident

    @uii_action("SetFieldValues")
    def set_field_values(self, data: ActionData, call: CallContext) -> None:
        if self.entity is None:
            raise ActionError(f"{self.name}: SetFieldValues: no record open")
        values = self._values_from(data, self._meta(self.entity), "SetFieldValues")
        editors = self.editors
        for name, value in values.items():
            if name in editors:
                editors[name].set_value(value)
            else:
                self._hidden_dirty[name] = value
        self._resolve_lookups()
        self.write_draft()
        self._refresh_header()

    # ------------------------------------------------------------------ case lifecycle
    def _given(self, data: ActionData, key: str, field: str) -> Any:
        """``key=`` from the data, else what the agent typed in ``field`` (``None``: neither)."""
        given = data.take(key)
        if given is not None:
            return given.strip() or None
        editor = self.editors.get(field)
        return editor.typed_value() if editor is not None and not editor.read_only else None

    async def _case_step(self, action: str, values: dict[str, Any]) -> str:
        services = self.data_services()
        ident = self.record_id
        if self.entity != "case" or ident is None:
            raise ActionError(f"{self.name}: {action} needs a case open (Open_CRM_Page LogicalName=case)")
        self._clear_errors()
        self.saving = True
        self._writing = True
        self._refresh_header()
        try:
            record = await services.update("case", ident, values, session=self.session)
        except DataError as exc:
            self._show_error(exc)
            raise ActionError(f"{self.name} {action}: {exc}") from None
        finally:
            self.saving = False
            self._writing = False
            self._refresh_header()
        if self.record_id == ident and not self.closed:
            self._apply_saved(record)
            self.form().show_notice(f"Case {humanise(text(record.get('status'))).lower()}.", "info")
        return ident

    def _require_case(self, action: str) -> None:
        if self.entity != "case" or self.record_id is None:
            raise ActionError(f"{self.name}: {action} needs a case open (Open_CRM_Page LogicalName=case)")

    @uii_action("ResolveCase")
    async def resolve_case(self, data: ActionData, call: CallContext) -> str:
        self._require_case("ResolveCase")
        values: dict[str, Any] = {"status": "resolved"}
        resolution = self._given(data, "resolution", "resolution")
        if resolution is not None:  # else the stored one (the lifecycle says when there is none)
            values["resolution"] = resolution
        return await self._case_step("ResolveCase", values)

    @uii_action("CloseCase")
    async def close_case(self, data: ActionData, call: CallContext) -> str:
        self._require_case("CloseCase")
        return await self._case_step("CloseCase", {"status": "closed"})

    @uii_action("ReopenCase")
    async def reopen_case(self, data: ActionData, call: CallContext) -> str:
        self._require_case("ReopenCase")
        return await self._case_step("ReopenCase", {"status": "open"})

    @uii_action("EscalateCase")
    async def escalate_case(self, data: ActionData, call: CallContext) -> str:
        self._require_case("EscalateCase")
        fields = self._meta("case").fields
        record = self.record or {}
        level_text = (data.take("level") or "").strip()
        try:
            level = int(level_text) if level_text else int(record.get("escalation_level") or 0) + 1
        except ValueError:
            raise ActionError(f"{self.name} EscalateCase: level={level_text!r} is not a number") from None
        values: dict[str, Any] = {"escalation_level": level}
        folded: list[str] = []
        steps = (("reason", "escalation_reason", ""), ("next_steps", "next_steps", "Next steps"),
                 ("promised_by", "promised_by", "Promised by"))
        for key, name, label in steps:
            given = self._given(data, key, name)
            if given is None:
                continue  # the stored value counts (the lifecycle names what is missing)
            if name in fields:
                values[name] = given
            else:  # a data source without the field: kept in the escalation reason
                folded.append(f"{label}: {given}")
        if folded:
            reason = str(values.get("escalation_reason") or "")
            values["escalation_reason"] = "\n".join([reason, *folded]).strip()
        return await self._case_step("EscalateCase", values)

    # ------------------------------------------------------------------ sub-lists
    def _related_chosen(self, spec: RelatedSpec, entity: str, ident: str) -> None:
        self.raise_event("RecordSelected", {"LogicalName": entity, "Id": ident})
        self.env.spawn(self._open_related(spec, entity, ident), session=self.session)

    async def _open_related(self, spec: RelatedSpec, entity: str, ident: str) -> None:
        """A related record goes through the window navigation rules (a pop-up of that record);
        with no rule it opens where the sub-list says (``open_in``, else this form)."""
        navigation = Navigation(self.name, "", "popup", entity=entity, record_id=ident,
                                session_id=self.session.id)
        routed = await self.env.router.route(navigation, self.session)
        if not routed.handled:
            await self.env.dispatcher.run_action(spec.open_in or self.name, "Open_CRM_Page",
                                                 f"LogicalName={entity}\nid={ident}",
                                                 session=self.session, literal=True)

    # ------------------------------------------------------------------ routing and recovery
    async def open_routed(self, page: RoutedPage) -> None:
        """A navigation rule routed a record here: open it (or a new one, prefilled)."""
        entity = page.entity or str(self.settings.get("entity") or "")
        if not entity:
            raise ActionError(f"{self.name}: a routed page without an entity cannot open here ({page.url})")
        self._routed_bars = (page.hide_command_bar, page.hide_navigation_bar)
        if page.record_id:
            self._meta(entity)
            await self._open(entity, page.record_id)
            return
        meta = self._meta(entity)
        data = ActionData.parse("\n".join(f"{k}={v}" for k, v in page.values.items()))
        self._start_new(entity, meta, self._values_from(data, meta, "New_CRM_Page"))

    def session_state(self) -> dict[str, Any] | None:
        if self.entity is None:
            return None
        return {"entity": self.entity, "id": self.record_id}  # unsaved edits are in the drafts

    def restore_session_state(self, state: Mapping[str, Any]) -> None:
        entity, ident = state.get("entity"), state.get("id")
        if not isinstance(entity, str) or not entity:
            return
        if isinstance(ident, str) and ident:
            self.env.spawn(self._open(entity, ident, announce=False), session=self.session)
        else:
            self._start_new(entity, self._meta(entity), {})

    def related_lists(self) -> list[RelatedList]:
        widget = self.form_widget
        return list(widget.related) if widget is not None else []

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        if not self.closed:
            self.write_draft()
        self._token += 1
        super().close()


def _defaults(meta: EntityMeta) -> dict[str, Any]:
    """The values a new record of ``meta`` starts with: its columns' plain defaults (status open...)."""
    out: dict[str, Any] = {}
    for name in meta.fields:
        column = meta.table.c.get(name)
        default = getattr(column, "default", None) if column is not None else None
        if default is not None and getattr(default, "is_scalar", False) and name != "id":
            out[name] = default.arg
    return out


__all__ = ["EntityForm", "EntityFormWidget"]
