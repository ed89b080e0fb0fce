"""Deterministic identity resolution for a batch of messages, inside the batch's transaction.

Every message with a userId, and every identify and alias, is a *link*: a set of identifiers
(user id, anonymous id, normalised e-mail and phone, custom ids) that belong to one person.
Applying a link either finds the one profile holding them, creates one, or merges the profiles
that hold them, strongest identifier first, within the per-profile limits. Blocked (junk) values
never link. Each event is then attributed to its userId's profile, else its anonymousId's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tillit.audit.service import Actor
from tillit.customers.models import Customer, Identity, IdentityType
from tillit.customers.normalise import InvalidIdentity, normalise
from tillit.customers.service import Defaults
from tillit.customers.validation import check_traits, check_traits_size
from tillit.events.models import EventType
from tillit.events.spec import Message
from tillit.identity.merge import merge_profiles
from tillit.identity.rules import LINKABLE_TRAITS, IdentityRules
from tillit.storage.bulk import LOOKUP_CHUNK, Bulk, lookups

Key = tuple[str, str]
KEY_CACHE_SIZE = 100_000
EXPLICIT = (EventType.identify, EventType.alias)  # the calls that link even without a userId
# Core tables: inserting through them skips the ORM's bulk-insert bookkeeping.
CUSTOMERS = cast(Table, Customer.__table__)
IDENTITIES = cast(Table, Identity.__table__)
# Statement templates for tillit.storage.bulk.Bulk.
OWNERS = "SELECT type, value, customer_id FROM identity WHERE type = {p} AND value {in_list}"
PROFILES = "SELECT id, name, traits FROM customer WHERE id {in_list}"


@dataclass
class Link:
    keys: list[Key]
    reason: str
    message_id: str
    explicit: bool = False  # alias: the sender says these are one person, limits or not
    traits: dict[str, Any] = field(default_factory=dict)


def _key(rules: IdentityRules, kind: IdentityType, value: str, country: str) -> Key | None:
    """The normalised identifier, or None when it is invalid or blocked. Cached on the rules:
    a page of track calls repeats one user's ids, and e-mail checks and patterns are slow."""
    cache = rules.key_cache
    try:
        return cache[(kind, value, country)]
    except KeyError:
        pass
    try:
        normalised: str | None = normalise(kind, value, default_country=country)
    except InvalidIdentity:
        normalised = None
    key = None if normalised is None or rules.is_blocked(normalised) else (str(kind), normalised)
    if len(cache) >= KEY_CACHE_SIZE:
        cache.clear()
    cache[(kind, value, country)] = key
    return key


def link_for(message: Message, *, rules: IdentityRules, default_country: str) -> Link | None:
    """The identifiers a message ties together, normalised and without blocked values."""
    keys: list[Key] = []

    def add(kind: IdentityType, value: object) -> None:
        if not isinstance(value, str | int) or isinstance(value, bool):
            return
        key = _key(rules, kind, str(value), default_country)
        if key is not None and key not in keys:
            keys.append(key)

    if message.user_id:
        add(IdentityType.user_id, message.user_id)
    if message.type is EventType.alias:
        add(IdentityType.user_id, message.raw.get("previousId"))
    if message.anonymous_id:
        add(IdentityType.anonymous_id, message.anonymous_id)
    traits = message.traits if message.type is EventType.identify else {}
    for trait, kind in LINKABLE_TRAITS.items():
        if trait in traits:
            add(kind, traits[trait])
    context = message.raw.get("context")
    for external in (context or {}).get("externalIds", []) if isinstance(context, dict) else []:
        if isinstance(external, dict) and external.get("type") in IdentityType.__members__:
            add(IdentityType(external["type"]), external.get("id"))
    if message.type not in EXPLICIT and not message.user_id:
        return None  # an anonymous page view links nothing
    if len(keys) < 1:
        return None
    return Link(
        keys=sorted(keys, key=rules.key_rank),
        reason=f"{message.type}",
        message_id=message.message_id,
        explicit=message.type is EventType.alias,
        traits=traits,
    )


def links_for(
    messages: Iterable[Message], *, rules: IdentityRules, default_country: str
) -> list[Link]:
    """The links of a batch to apply, in order, each once: a page of track calls from one
    signed-in user repeats one link (a link with traits is applied again: they may change)."""
    links: list[Link] = []
    applied: set[tuple[Key, ...]] = set()
    plain: set[tuple[str | None, str | None]] = set()
    for message in messages:
        context = message.raw.get("context")
        if message.type not in EXPLICIT and not (
            isinstance(context, dict) and context.get("externalIds")
        ):
            # Only its user and anonymous id link: skip it as link_for would, without the work.
            if not message.user_id or (message.user_id, message.anonymous_id) in plain:
                continue
            plain.add((message.user_id, message.anonymous_id))
        link = link_for(message, rules=rules, default_country=default_country)
        if link is not None and (tuple(link.keys) not in applied or link.traits):
            links.append(link)
            applied.add(tuple(link.keys))
    return links


class Resolver:
    """Applies links for one transaction, caching who owns which identifier."""

    def __init__(
        self,
        *,
        session: Session,
        rules: IdentityRules,
        defaults: Defaults,
        actor: Actor,
        source_name: str,
    ) -> None:
        self.session, self.rules, self.defaults, self.actor = session, rules, defaults, actor
        self.bulk = Bulk(session)  # one for the batch: session.connection() is not free
        self.source_name = source_name
        self.owners: dict[Key, int] = {}
        self.merges = 0
        # Identifiers attached in this batch whose earlier events may wait for an owner:
        # ``settle`` returns them, and events finds those events with one query (usually
        # none) instead of an UPDATE per person.
        self.unstitched: set[Key] = set()
        # New people wait here under negative ids, and are inserted together by ``flush``:
        # one multi-row INSERT for the profiles and one for their identifiers, not two each.
        self.pending: list[tuple[dict[str, Any], list[Key]]] = []
        self.waiting: list[Key] = []  # the identifiers whose owner is such a placeholder
        # (name, traits) of profiles as stored, read past the ORM: see prefetch_profiles.
        self._profiles: dict[int, tuple[str | None, dict[str, Any]]] = {}

    def prefetch(self, keys: Iterable[Key]) -> None:
        """Who owns these identifiers: usually one statement for all their types."""
        by_type: dict[str, list[str]] = {}
        for kind, value in {k for k in keys if k not in self.owners}:
            by_type.setdefault(kind, []).append(value)
        templates = dict.fromkeys(by_type, OWNERS)
        for kind, value, customer_id in lookups(self.bulk, templates, by_type, typed=True):
            self.owners[(str(kind), value)] = customer_id

    def prefetch_profiles(self, customer_ids: Iterable[int]) -> None:
        """The name and traits of the profiles this batch may update, in one plain query per
        chunk. Most identify calls repeat what the profile already holds (a sign-in sends the
        same traits each time); then ``_update_traits`` neither loads nor writes anything."""
        wanted = sorted({c for c in customer_ids if c > 0 and c not in self._profiles})
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = self.bulk.list_param(wanted[start : start + LOOKUP_CHUNK])
            for customer_id, name, traits in self.bulk.rows(PROFILES, (chunk,)):
                document = orjson.loads(traits) if isinstance(traits, str | bytes) else traits
                self._profiles[int(customer_id)] = (name, document or {})

    def apply(self, link: Link) -> int:
        owned = {self.owners[k] for k in link.keys if k in self.owners}
        if not owned:
            return self._create(link.keys, link)
        if any(c < 0 for c in owned) and (
            len(owned) > 1 or any(k not in self.owners for k in link.keys)
        ):
            # Merging or attaching to a profile not yet inserted: insert the waiting ones first.
            self.flush()
            owned = {self.owners[k] for k in link.keys if k in self.owners}
        into = next(self.owners[k] for k in link.keys if k in self.owners)
        for other in sorted(owned - {into}):
            if link.explicit or self._within_limits(other, into):
                merge_profiles(
                    session=self.session,
                    from_id=other,
                    into_id=into,
                    actor=self.actor,
                    reason=f"{link.reason}: shares "
                    + ", ".join(t for t, _ in link.keys if self.owners.get((t, _)) == other),
                    message_id=link.message_id,
                )
                self.merges += 1
                self.owners = {k: (into if c == other else c) for k, c in self.owners.items()}
                for changed in (other, into):  # the merge rewrote them through the ORM
                    self._profiles.pop(changed, None)
        free = [k for k in link.keys if k not in self.owners]
        rejected = self._attach(into, free, explicit=link.explicit)
        if rejected and rejected[0] == link.keys[0]:
            # The strongest identifier cannot join (say, a second user id on a shared
            # device): it is someone else, who gets a profile of their own.
            into = self._create(rejected, link)
        self._update_traits(into, link.traits)
        return into

    def attribute(self, message: Message) -> int | None:
        # Plain-string keys: hashing an enum member runs Python code, and this runs per event.
        owner = self.owners.get(("user_id", message.user_id)) if message.user_id else None
        if owner is None and message.anonymous_id:
            owner = self.owners.get(("anonymous_id", message.anonymous_id))
        return owner

    def _create(self, keys: list[Key], link: Link) -> int:
        """A new person, inserted later by ``flush``; returns a negative placeholder id."""
        row = {
            "name": _name(link.traits),
            "locale": self.defaults.language,
            "time_zone": self.defaults.time_zone,
            "traits": _plain_traits(link.traits),
        }
        self.pending.append((row, list(keys)))
        placeholder = -len(self.pending)
        for key in keys:  # a new profile holds no identifiers, so no limit applies
            self.owners[key] = placeholder
        self.waiting += keys
        self.unstitched.update(
            k for k in keys if k[0] in (IdentityType.user_id, IdentityType.anonymous_id)
        )
        return placeholder

    def flush(self) -> None:
        """Inserts the waiting people, then their identifiers (one executemany)."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        bulk = self.bulk
        ids = bulk.insert(CUSTOMERS, [row for row, _ in pending], returning_ids=True)
        real = {-(n + 1): int(i) for n, i in enumerate(ids)}
        waiting, self.waiting = self.waiting, []
        for key in waiting:  # not a pass over every owner: a chunk of an import has thousands
            self.owners[key] = real.get(self.owners[key], self.owners[key])
        rows = [
            {"customer_id": real[-(n + 1)], "type": t, "value": v, "source": self.source_name}
            for n, (_, keys) in enumerate(pending)
            for t, v in keys
        ]
        bulk.insert(IDENTITIES, rows)

    def _attach(
        self, customer_id: int, keys: list[Key], *, explicit: bool = False, new: bool = False
    ) -> list[Key]:
        """Adds identifiers within the limits; returns those that would break one."""
        rejected: list[Key] = []
        rows: list[dict[str, Any]] = []
        limited = not new and any(self.rules.limit(t) for t, _ in keys)
        counts = self._counts([customer_id]) if limited else {}  # a new profile holds none
        for kind, value in keys:
            limit = self.rules.limit(kind)
            have = counts.get((customer_id, kind), 0)
            if limit is not None and have >= limit and not explicit:
                rejected.append((kind, value))
                continue
            counts[(customer_id, kind)] = have + 1
            rows.append(
                {
                    "customer_id": customer_id,
                    "type": kind,
                    "value": value,
                    "source": self.source_name,
                }
            )
            self.owners[(kind, value)] = customer_id
            if customer_id < 0:
                self.waiting.append((kind, value))
        added = [k for k in keys if k not in rejected]
        if added:
            self.bulk.insert(IDENTITIES, rows)
            self.unstitched.update(
                k for k in added if k[0] in (IdentityType.user_id, IdentityType.anonymous_id)
            )
        return rejected

    def settle(self) -> dict[Key, int]:
        """Inserts the people still waiting, and returns the owner at the end of the batch
        (merges included) of each user and anonymous id attached in it: their earlier events,
        which nobody owned yet, now belong to that owner (the caller, who owns the events,
        moves them)."""
        self.flush()
        keys, self.unstitched = sorted(self.unstitched), set()
        return {key: self.owners[key] for key in keys if key in self.owners}

    def _counts(self, customer_ids: list[int]) -> dict[tuple[int, str], int]:
        limited = list(self.rules.limits)
        rows = self.session.execute(
            select(Identity.customer_id, Identity.type, func.count())
            .where(Identity.customer_id.in_(customer_ids), Identity.type.in_(limited))
            .group_by(Identity.customer_id, Identity.type)
        )
        return {(c, str(t)): n for c, t, n in rows}

    def _within_limits(self, one: int, other: int) -> bool:
        counts = self._counts([one, other])
        return all(
            counts.get((one, kind), 0) + counts.get((other, kind), 0) <= limit
            for kind, limit in self.rules.limits.items()
        )

    def _update_traits(self, customer_id: int, traits: dict[str, Any]) -> None:
        plain = _plain_traits(traits)
        name = _name(traits)
        if not plain and not name:
            return
        if customer_id < 0:  # not inserted yet: update the waiting row
            row = self.pending[-customer_id - 1][0]
            row["traits"] = _within_limit(row["traits"], plain)
            row["name"] = row["name"] or name
            return
        stored = self._profiles.get(customer_id)
        if stored is not None:
            stored_name, stored_traits = stored
            if {**stored_traits, **plain} == stored_traits and (stored_name or not name):
                return  # nothing would change
        # From here on the ORM's copy is the one to read: it may change in this batch.
        self._profiles.pop(customer_id, None)
        customer = self.session.get(Customer, customer_id)
        if customer is None:
            return
        merged = _within_limit(customer.traits or {}, plain)
        if merged != customer.traits:
            customer.traits = merged
        if customer.name is None and name:
            customer.name = name


def _plain_traits(traits: dict[str, Any]) -> dict[str, Any]:
    plain = {k: v for k, v in traits.items() if k not in LINKABLE_TRAITS and k != "name"}
    # The profile takes only traits the API would take (the event keeps what was sent).
    return {} if check_traits(plain) else plain


def _within_limit(held: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Many identify calls, each small, must not grow a profile past the API's traits limit:
    new traits that would are left out, the profile stays as it was."""
    merged = {**held, **new}
    return held if check_traits_size(merged) else merged


def _name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    if not name:
        name = " ".join(str(traits[k]) for k in ("firstName", "lastName") if traits.get(k))
    return str(name)[:200] if name else None
