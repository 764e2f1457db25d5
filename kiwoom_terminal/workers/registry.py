"""What the engine has subscribed to, kept by the supervisor so a restarted WebSocket worker
starts with the same registrations and real-time conditions (it then re-registers them on
its first LOGIN and reports `Resubscribed`, exactly as after a reconnect)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kiwoom_terminal.api import wire
from kiwoom_terminal.api.values import wire_code
from kiwoom_terminal.constants import Feed, Venue
from kiwoom_terminal.messages import (
    ErrorKind,
    StartCondition,
    StopCondition,
    Subscribe,
    Unsubscribe,
    WsCommand,
    WsReply,
)

Item = tuple[str, Venue]

# Failures after which the WebSocket client's own registry (api/ws.py) still holds a
# command's effect: a Subscribe that timed out or lost its connection stays registered
# (the REG is sent again after the next LOGIN; only a refusal reverts it); Unsubscribe and
# StopCondition forget their items before anything is sent. StartCondition is recorded by
# the client only once the search started, so only its success counts. Input errors and
# internal errors happen before the registry is touched.
_KEPT_AFTER_FAILURE: dict[type, frozenset[ErrorKind]] = {
    Subscribe: frozenset({ErrorKind.TIMEOUT, ErrorKind.DISCONNECTED}),
    Unsubscribe: frozenset({ErrorKind.TIMEOUT, ErrorKind.DISCONNECTED, ErrorKind.REJECTED}),
    StopCondition: frozenset({ErrorKind.TIMEOUT, ErrorKind.DISCONNECTED, ErrorKind.REJECTED}),
}


def kept_by_worker(command: WsCommand, reply: WsReply) -> bool:
    """True when the WebSocket worker's registry holds the effect of `command` after
    `reply`, so the supervisor must record it too: a restarted worker then restores exactly
    what the old one would have restored after a reconnect."""
    if reply.ok:
        return True
    if reply.error is None:
        return False
    return reply.error.kind in _KEPT_AFTER_FAILURE.get(type(command), frozenset())


@dataclass
class Subscriptions:
    """group → feed → (code, venue) items, and the real-time condition seqs. Updated from
    the commands whose effect the worker's own registry holds (`kept_by_worker`)."""

    groups: dict[str, dict[Feed, set[Item]]] = field(default_factory=dict)
    conditions: set[str] = field(default_factory=set)

    def apply(self, command: WsCommand) -> None:
        """Record the effect of a command the worker kept (`kept_by_worker`)."""
        if isinstance(command, Subscribe):
            items = {(c, command.venue) for c in command.codes}
            group = {} if not command.refresh else self.groups.setdefault(command.group, {})
            for feed in command.feeds:
                group.setdefault(feed, set()).update(
                    {("", Venue.KRX)} if feed in wire.ACCOUNT_FEEDS else items
                )
            group = {f: i for f, i in group.items() if i}
            if group:
                self.groups[command.group] = group
            else:
                self.groups.pop(command.group, None)
        elif isinstance(command, Unsubscribe):
            current = self.groups.get(command.group, {})
            if not command.codes and not command.feeds:
                current = {}
            else:
                items = {(c, command.venue) for c in command.codes}
                for feed in command.feeds:
                    if feed in wire.ACCOUNT_FEEDS:
                        current.pop(feed, None)
                    elif feed in current:
                        current[feed] -= items
                current = {f: i for f, i in current.items() if i}
            if current:
                self.groups[command.group] = current
            else:
                self.groups.pop(command.group, None)
        elif isinstance(command, StartCondition) and command.realtime:
            self.conditions.add(command.seq.strip())
        elif isinstance(command, StopCondition):
            self.conditions.discard(command.seq.strip())

    def wire_groups(self) -> dict[str, dict[str, set[str]]]:
        """The registry in the WebSocket client's form: group → REAL type → wire items."""
        result: dict[str, dict[str, set[str]]] = {}
        for group, feeds in self.groups.items():
            types: dict[str, set[str]] = {}
            for feed, items in feeds.items():
                rtype = wire.FEED_TYPES[feed]
                if feed in wire.ACCOUNT_FEEDS:
                    types[rtype] = {""}
                else:
                    types[rtype] = {wire_code(code, venue) for code, venue in items}
            result[group] = types
        return result

    def copy(self) -> Subscriptions:
        return Subscriptions(
            {g: {f: set(i) for f, i in feeds.items()} for g, feeds in self.groups.items()},
            set(self.conditions),
        )
