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
from eventsourcing.persistence import (
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
    find_id_convertor,
)
from eventsourcing.utils import resolve_topic

from application.ports import KeyVault

ERASED = None


def is_encrypted(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"enc", "subject"}


class PersonalDataMapper(Mapper[UUID]):
    """A library Mapper that encrypts and decrypts personal fields."""

    def __init__(self, transcoder: Transcoder, vault: KeyVault) -> None:
        super().__init__(transcoder=transcoder)
        self.vault = vault
        self._classes: dict[str, tuple[type[Any], int]] = {}

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
        if self.cipher is None and self.compressor is None:
            event = self._to_domain_event(stored_event)
        else:
            event = super().to_domain_event(stored_event)
        state = vars(event)
        for name in getattr(type(event), "personal_fields", ()):
            value = state.get(name)
            if isinstance(value, dict) and is_encrypted(value):
                state[name] = self.decrypt_field(value)
        return event

    def _to_domain_event(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        """`Mapper.to_domain_event` (no cipher, no compressor), with the event
        class and its version looked up once per topic: it runs for every
        event a projector or rebuild reads."""
        known = self._classes.get(stored.topic)
        if known is None:
            cls = resolve_topic(stored.topic)
            known = self._classes[stored.topic] = (cls, getattr(cls, "class_version", 1))
        cls, class_version = known
        try:
            state: dict[str, Any] = self.transcoder.decode(stored.state)
        except Exception as error:
            raise MapperDeserialisationError(
                f"Failed to deserialise state of stored event with topic '{stored.topic}', "
                f"originator_id '{stored.originator_id}' and "
                f"originator_version {stored.originator_version}: {error}"
            ) from error
        convert = find_id_convertor(cls, type(stored.originator_id))  # type: ignore[arg-type]
        state["originator_id"] = convert(stored.originator_id)
        state["originator_version"] = stored.originator_version
        from_version = state.pop("class_version", 1)
        while from_version < class_version:  # the library's upcasting, step by step
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event  # type: ignore[no-any-return]

    def decrypt_field(self, value: dict[str, Any]) -> str | None:
        return self.vault.decrypt(UUID(value["subject"]), value["enc"])


def _subject_of(event: object, state: dict[str, Any]) -> UUID:
    field = getattr(type(event), "personal_subject", "originator_id")
    subject = state[field]
    return subject if isinstance(subject, UUID) else UUID(str(subject))
