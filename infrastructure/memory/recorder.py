"""In-memory recorder for unit tests: the library's POPO recorder + side tables.

It keeps the same all-or-nothing contract as the Postgres recorder: a claim
conflict or a duplicate idempotency key rejects the events too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from application import records


class MemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self.claims: dict[tuple[str, str], UUID] = {}
        self.idempotency_records: dict[tuple[str, str, str, str], records.IdempotencyRecord] = {}
        self.principals: dict[UUID, records.Principal] = {}
        self.keys: dict[UUID, tuple[str, records.ApiKeyRow]] = {}

    def _insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: Sequence[records.SideRecord] = kwargs.get("side", ())
        with self._database_lock:
            self._assert_uniqueness(stored_events)
            self._check_side(side)
            ids = self._update_table(stored_events) or []
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
