"""In-memory recorder for unit tests: the library's POPO recorder + side tables.

It keeps the same all-or-nothing contract as the Postgres recorder: a claim
conflict or a duplicate idempotency key rejects the events too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from application import records
from application.audit import chain


class MemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self.claims: dict[tuple[str, str], UUID] = {}
        self.idempotency_records: dict[tuple[str, str, str, str], records.IdempotencyRecord] = {}
        self.principals: dict[UUID, records.Principal] = {}
        self.keys: dict[UUID, tuple[str, records.ApiKeyRow]] = {}
        self.links: dict[int, bytes] = {}

    def select_events_of(self, originator_ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
        """As the Postgres recorder's: several aggregates' events, by originator."""
        found = {i: list(self.select_events(i)) for i in dict.fromkeys(originator_ids)}
        return {i: events for i, events in found.items() if events}

    def _insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: Sequence[records.SideRecord] = kwargs.get("side", ())
        with self._database_lock:
            self._assert_uniqueness(stored_events)
            self._check_side(side)
            ids = self._update_table(stored_events) or []
            self._link(stored_events, ids)
            position = max(ids, default=len(self._stored_events))
            for record in side:
                self._apply(record, position)
            return ids

    def _check_side(self, side: Sequence[records.SideRecord]) -> None:
        for record in side:
            if isinstance(record, records.Claim):
                owner = self.claims.get((record.scope, record.value))
                if owner is not None and owner != record.owner_id:
                    raise records.ClaimConflict(record.scope)
            if (
                isinstance(record, records.IdempotencyRecord)
                and self._idem_key(record) in self.idempotency_records
            ):
                raise records.IdempotencyConflict(record.key)

    def _apply(self, record: records.SideRecord, position: int) -> None:
        now = datetime.now(UTC)
        match record:
            case records.Claim(scope, value, owner_id):
                self.claims[(scope, value)] = owner_id
            case records.ReleaseClaim(scope, value):
                self.claims.pop((scope, value), None)
            case records.IdempotencyRecord():
                record.body["position"] = position
                record.created_at = now
                self.idempotency_records[self._idem_key(record)] = record
            case records.NewPrincipal(user_id, password_hash, role):
                self.principals[user_id] = records.Principal(user_id, role, password_hash, 1)
            case records.PasswordSet(user_id, password_hash):
                old = self.principals[user_id]
                self.principals[user_id] = records.Principal(
                    user_id, old.role, password_hash, old.password_version + 1
                )
            case records.RoleSet(user_id, role):
                old = self.principals[user_id]
                self.principals[user_id] = records.Principal(
                    user_id, role, old.password_hash, old.password_version
                )
            case records.ApiKeyInsert(key_id, user_id, key_hash, name, prefix):
                row = records.ApiKeyRow(key_id, user_id, name, prefix, now)
                self.keys[key_id] = (key_hash, row)
            case records.ApiKeyRemove(key_id):
                self.keys.pop(key_id, None)
            case records.PrincipalRemove(user_id):
                self.principals.pop(user_id, None)
                for key_id in [k for k, (_, row) in self.keys.items() if row.user_id == user_id]:
                    del self.keys[key_id]

    def _link(self, events: Sequence[StoredEvent], ids: Sequence[int]) -> None:
        previous = self.chain_head()[1]
        for position, event in zip(ids, events, strict=True):
            previous = chain.link(
                previous,
                position,
                event.originator_id.bytes,  # type: ignore[union-attr]
                event.originator_version,
                event.topic,
                event.state,
            )
            self.links[position] = previous

    # AuditLog
    def chain_rows(self, after: int = 0, upto: int | None = None) -> Iterator[chain.ChainRow]:
        with self._database_lock:
            events = list(enumerate(self._stored_events, start=1))
            links = dict(self.links)
        last = upto if upto is not None else len(events)
        for position, event in events[after:last]:
            yield (
                position,
                event.originator_id.bytes,  # type: ignore[union-attr]
                event.originator_version,
                event.topic,
                event.state,
                links.get(position),
            )

    def link_at(self, position: int) -> bytes | None:
        return chain.GENESIS if position == 0 else self.links.get(position)

    def chain_head(self) -> tuple[int, bytes]:
        if not self.links:
            return 0, chain.GENESIS
        position = max(self.links)
        return position, self.links[position]

    def aggregate_notifications(
        self, originator_id: UUID, after_version: int, limit: int
    ) -> list[Notification]:
        with self._database_lock:
            found = [
                Notification(
                    id=position,
                    originator_id=e.originator_id,
                    originator_version=e.originator_version,
                    topic=e.topic,
                    state=e.state,
                )
                for position, e in enumerate(self._stored_events, start=1)
                if e.originator_id == originator_id and e.originator_version > after_version
            ]
        return found[:limit]

    @staticmethod
    def _idem_key(record: records.IdempotencyRecord) -> tuple[str, str, str, str]:
        return (record.principal, record.method, record.path, record.key)

    # SideTables
    def claim_owner(self, scope: str, value: str) -> UUID | None:
        return self.claims.get((scope, value))

    def principal(self, user_id: UUID) -> records.Principal | None:
        return self.principals.get(user_id)

    def api_key_by_hash(self, key_hash: str) -> records.ApiKeyRow | None:
        for stored_hash, row in self.keys.values():
            if stored_hash == key_hash:
                return row
        return None

    def api_keys(self, user_id: UUID) -> list[records.ApiKeyRow]:
        rows = [row for _, row in self.keys.values() if row.user_id == user_id]
        return sorted(rows, key=lambda row: row.created_at)

    def idempotency(
        self, principal: str, method: str, path: str, key: str
    ) -> records.IdempotencyRecord | None:
        return self.idempotency_records.get((principal, method, path, key))
