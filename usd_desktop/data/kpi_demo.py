"""Demo rows for the KPIs (:mod:`usd_desktop.data.kpi`), made alongside :mod:`usd_desktop.data.demo`.

The demo's interactions are all answered. Beside them this makes, from a random stream of its own
(so the demo's other rows stay exactly as they were for a seed):

* **survey answers**: a survey is sent for about a third of the handled interactions, two minutes
  after the wrap-up; about half are answered within two days (a 1-5 scale, or yes/no), mostly
  satisfied;
* **agent state periods** for the phone and chat interactions of the last three months of demo
  time: the agent was *available* a while before answering (so occupancy is about 70-85 %), *on
  call* until the end, in *wrap-up* until the wrap-up ended, and now and then *not ready* (a break);
* **unanswered calls**: for about one customer in twelve, an inbound phone call that was abandoned
  in the queue (no agent; a few within seconds, short abandons) or missed by an agent. They are
  linked to no customer (the caller was not identified), so the customers' histories are unchanged.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from typing import Any

#: Table -> the columns of its rows, in order.
COLUMNS: dict[str, tuple[str, ...]] = {
    "survey_responses": (
        *("id", "interaction_id", "case_id", "contact_id", "channel", "kind", "scale_max", "score"),
        *("sent_at", "answered_at", "comment"),
    ),
    "agent_state_periods": ("id", "agent", "state", "reason", "started_at", "ended_at"),
}
#: Agent states are made for interactions offered this long before the end of demo time.
STATE_HISTORY_SECONDS = 92 * 86400
#: Cumulative weights of the scores 1..5 of a scale answer.
SCALE_WEIGHTS = (0.04, 0.10, 0.22, 0.58, 1.0)
COMMENTS = ("Quick and friendly.", "Had to explain twice.", "Solved at once, thanks!", "Waited too long.")
_QUEUES = ("general", "billing", "support")
_SYNCHRONOUS = ("phone", "chat")


class KpiDemo:
    """Makes the rows of a demo run: ``seed`` and the first customer number fix them."""

    def __init__(
        self, seed: int, start: int, at: Callable[[int], str], agents: Sequence[str], span: int
    ) -> None:
        self.rng = random.Random(f"kpi/{seed}" if start == 0 else f"kpi/{seed}/{start}")
        self.at, self.agents, self.span = at, agents, span
        self._surveys: list[tuple[Any, ...]] = []
        self._states: list[tuple[Any, ...]] = []

    def _id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def handled(self, row: Sequence[Any], answered: int, ended: int, wrapped: int) -> None:
        """The survey and agent states of a demo interaction (``row`` in the demo's column order:
        id, channel, direction, subject, queue, agent, address, contact_id, case_id, ...)."""
        rnd, at = self.rng.random, self.at
        interaction, channel, agent, contact, case = row[0], row[1], row[5], row[7], row[8]
        if rnd() < 0.33:
            sent = wrapped + 120
            scale = rnd() < 0.8
            score: int | None = None
            when = sent + 60 + int(rnd() * 172_800)
            if rnd() < 0.5 and when <= self.span:
                draw = rnd()
                if scale:
                    score = next(i for i, w in enumerate(SCALE_WEIGHTS, 1) if draw <= w)
                else:
                    score = int(rnd() < 0.8)
            comment = COMMENTS[int(rnd() * len(COMMENTS))] if score is not None and rnd() < 0.2 else None
            self._surveys.append(
                (
                    self._id(),
                    interaction,
                    case,
                    contact,
                    channel,
                    "scale" if scale else "yes_no",
                    5 if scale else 1,
                    score,
                    at(sent),
                    at(when) if score is not None else None,
                    comment,
                )
            )
        if channel not in _SYNCHRONOUS or answered < self.span - STATE_HISTORY_SECONDS:
            return
        idle = max(1, int((wrapped - answered) * (0.15 + rnd() * 0.3)))
        periods: list[tuple[str, str | None, int, int]] = [
            ("available", None, answered - idle, answered),
            ("on_call", None, answered, ended),
        ]
        if wrapped > ended:
            periods.append(("wrap_up", None, ended, wrapped))
        if rnd() < 0.1:
            periods.append(("not_ready", "Break", wrapped, wrapped + 600 + int(rnd() * 300)))
        for state, reason, begin, end in periods:
            self._states.append((self._id(), agent, state, reason, at(begin), at(end)))

    def unanswered(self, interaction: str, phone: str) -> tuple[Any, ...] | None:
        """Now and then an unanswered inbound call (the demo's interaction columns), else ``None``."""
        rnd, at = self.rng.random, self.at
        if rnd() >= 0.08:
            return None
        offered = int(rnd() * self.span)
        queue = _QUEUES[int(rnd() * 3)]
        if rnd() < 0.7:  # the caller gave up in the queue
            agent, cause, ended = None, "abandoned", offered + 1 + int(rnd() * 150)
        else:  # rang at an agent who did not answer
            agent = self.agents[int(rnd() * len(self.agents))]
            cause, ended = "missed", offered + 15 + int(rnd() * 15)
        return (
            *(interaction, "phone", "inbound", f"Call from {phone}", queue, agent, phone, None, None),
            *(at(offered), None, at(ended), None, 0, None, False, 0, cause),
        )

    def done(self) -> dict[str, list[tuple[Any, ...]]]:
        """The rows made since the last call, per table."""
        out = {"survey_responses": self._surveys, "agent_state_periods": self._states}
        self._surveys, self._states = [], []
        return out


__all__ = ["COLUMNS", "KpiDemo"]
