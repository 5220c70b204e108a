"""How far the relay is: its position, and its lag in events and in seconds.

Read from Postgres, so any process (an API replica, `trawl serve`) can tell,
wherever the relay runs. The seconds are the age of the oldest event the
stream does not hold yet (0 when caught up).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, Notification
from psycopg.sql import SQL, Identifier

from infrastructure.nats.database import RELAY_VIEW
from infrastructure.nats.messages import sealed_event


@dataclass(frozen=True)
class RelayStatus:
    position: int
    head: int
    lag_events: int
    lag_seconds: float
    updated_at: datetime | None


def relay_status(datastore: Any, mapper: Mapper[UUID], events_table: str) -> RelayStatus | None:
    """The relay's progress, or None when no relay ever ran on this database."""
    table = Identifier(events_table)
    with datastore.transaction(commit=False) as curs:
        curs.execute(
            "SELECT position, updated_at FROM trawl_view_positions WHERE view = %s", (RELAY_VIEW,)
        )
        row = curs.fetchone()
        if row is None:
            return None
        position = int(row["position"])
        curs.execute(SQL("SELECT max(notification_id) AS head FROM {}").format(table))
        head = int(curs.fetchone()["head"] or 0)
        curs.execute(
            SQL("SELECT count(*) AS n FROM {} WHERE notification_id > %s").format(table),
            (position,),
        )
        lag_events = int(curs.fetchone()["n"])
        curs.execute(
            SQL(
                "SELECT notification_id, originator_id, originator_version, topic, state"
                " FROM {} WHERE notification_id > %s ORDER BY notification_id LIMIT 1"
            ).format(table),
            (position,),
        )
        oldest = curs.fetchone()
    lag_seconds = 0.0
    if oldest is not None:
        event = sealed_event(
            mapper,
            Notification(
                id=oldest["notification_id"],
                originator_id=oldest["originator_id"],
                originator_version=oldest["originator_version"],
                topic=oldest["topic"],
                state=bytes(oldest["state"]),
            ),
        )
        occurred: datetime = vars(event)["timestamp"]
        lag_seconds = max((datetime.now(UTC) - occurred).total_seconds(), 0.0)
    return RelayStatus(position, head, lag_events, lag_seconds, row["updated_at"])
