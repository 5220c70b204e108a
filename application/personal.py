"""Field-level encryption of personal data, in the mapper.

The domain keeps plaintext; stored events (and so audit answers and the NATS
stream) hold `{"enc": "<base64 AES-GCM>", "subject": "<subject id>"}` for
each field an event class lists in `personal_fields`. The subject is the
event's originator unless the class names another field in
`personal_subject`. When the subject's key is gone the field reads as None.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from application.ports import KeyVault

ERASED = None


def is_encrypted(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"enc", "subject"}


class PersonalDataMapper(Mapper[UUID]):
    """A library Mapper that encrypts and decrypts personal fields."""

    def __init__(self, transcoder: Transcoder, vault: KeyVault) -> None:
        super().__init__(transcoder=transcoder)
        self.vault = vault

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        personal = getattr(type(domain_event), "personal_fields", ())
        if not personal:
            return super().to_stored_event(domain_event)
        state = dict(vars(domain_event))
        subject = _subject_of(domain_event, state)
        for name in personal:
            if state.get(name) is not None and not is_encrypted(state[name]):
                state[name] = {
                    "enc": self.vault.encrypt(subject, state[name]),
                    "subject": str(subject),
                }
        shadow = object.__new__(type(domain_event))
        object.__setattr__(shadow, "__dict__", state)
        return super().to_stored_event(shadow)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        event = super().to_domain_event(stored_event)
        state = vars(event)
        for name in getattr(type(event), "personal_fields", ()):
            value = state.get(name)
            if isinstance(value, dict) and is_encrypted(value):
                state[name] = self.decrypt_field(value)
        return event

    def decrypt_field(self, value: dict[str, Any]) -> str | None:
        return self.vault.decrypt(UUID(value["subject"]), value["enc"])


def _subject_of(event: object, state: dict[str, Any]) -> UUID:
    field = getattr(type(event), "personal_subject", "originator_id")
    subject = state[field]
    return subject if isinstance(subject, UUID) else UUID(str(subject))
