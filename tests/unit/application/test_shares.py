"""Shares, invitations and share links on the in-memory store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.shares.queries import LinkResolver
from application.store import NotFound
from domain.common import Context
from domain.projects import errors as projects_errors
from domain.shares import errors as shares_errors
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import ListMailer, register

pytestmark = pytest.mark.unit

TOKEN_LINE = re.compile(r"^([A-Za-z0-9_-]{40,})$", re.MULTILINE)


def _token(message_body: str) -> str:
    match = TOKEN_LINE.search(message_body)
    assert match, message_body
    return match.group(1)


def _verified(trawl: Trawl, mailer: ListMailer, email: str) -> Caller:
    user_id = register(trawl, email, "Someone")
    trawl.users.verify_email(Context.system("test"), _token(mailer.to(email)[-1].body))
    return Caller.user(user_id, "user")


@pytest.fixture
def project(trawl: Trawl, owner: Caller) -> UUID:
    return trawl.projects.create(owner, "Shared notes").id


def test_a_grant_to_a_verified_account_applies_at_once(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    bob = _verified(trawl, mailer, "bob@example.org")
    result = trawl.shares.grant(owner, project, "BOB@example.org", "viewer")
    assert result.extra["kind"] == "share"
    assert trawl.project_queries.get(bob, project).role == "viewer"
    assert [p.id for p in trawl.project_queries.list(bob).items] == [project]


def test_a_grant_to_an_unverified_account_is_an_invitation_it_cannot_use_yet(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    carol = Caller.user(register(trawl, "carol@example.org", "Carol"), "user")
    result = trawl.shares.grant(owner, project, "carol@example.org", "editor")
    assert result.extra["kind"] == "invitation"
    with pytest.raises(NotFound):
        trawl.project_queries.get(carol, project)
    invitation_token = _token(mailer.to("carol@example.org")[-1].body)
    with pytest.raises(shares_errors.EmailMismatch):
        trawl.shares.accept(carol, invitation_token)  # email not verified yet


def test_an_invitation_is_accepted_once_by_the_verified_invitee(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    trawl.shares.grant(owner, project, "dan@example.org", "editor")
    invitation_token = _token(mailer.to("dan@example.org")[-1].body)
    dan = _verified(trawl, mailer, "dan@example.org")
    trawl.shares.accept(dan, invitation_token)
    assert trawl.project_queries.get(dan, project).role == "editor"
    with pytest.raises(shares_errors.InvitationClosed):
        trawl.shares.accept(dan, invitation_token)


def test_someone_else_cannot_accept_an_invitation(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    trawl.shares.grant(owner, project, "erin@example.org", "viewer")
    invitation_token = _token(mailer.to("erin@example.org")[-1].body)
    mallory = _verified(trawl, mailer, "mallory@example.org")
    with pytest.raises(shares_errors.EmailMismatch):
        trawl.shares.accept(mallory, invitation_token)


def test_granting_twice_or_to_the_owner_is_refused(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    _verified(trawl, mailer, "bob@example.org")
    trawl.shares.grant(owner, project, "bob@example.org", "viewer")
    with pytest.raises(shares_errors.AlreadyShared):
        trawl.shares.grant(owner, project, "bob@example.org", "editor")
    with pytest.raises(shares_errors.OwnerCannotBeGranted):
        trawl.shares.grant(owner, project, "owner@example.org", "viewer")
    trawl.shares.grant(owner, project, "new@example.org", "viewer")
    with pytest.raises(shares_errors.AlreadyShared):
        trawl.shares.grant(owner, project, "new@example.org", "viewer")


def test_revoking_twice_changes_nothing_the_second_time(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    bob = _verified(trawl, mailer, "bob@example.org")
    share = trawl.shares.grant(owner, project, "bob@example.org", "viewer")
    first = trawl.shares.revoke(owner, share.id)
    head = trawl.store.head()
    second = trawl.shares.revoke(owner, share.id)
    assert second.version == first.version and trawl.store.head() == head
    with pytest.raises(NotFound):
        trawl.project_queries.get(bob, project)
    trawl.shares.grant(owner, project, "bob@example.org", "editor")  # may be granted again
    assert trawl.project_queries.get(bob, project).role == "editor"


def test_a_grantee_can_leave_and_then_sees_nothing(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    bob = _verified(trawl, mailer, "bob@example.org")
    trawl.shares.grant(owner, project, "bob@example.org", "viewer")
    trawl.shares.leave(bob, project)
    with pytest.raises(NotFound):
        trawl.project_queries.get(bob, project)
    with pytest.raises(NotFound):
        trawl.shares.leave(bob, project)


def test_only_the_owner_manages_shares(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID, stranger: Caller
) -> None:
    bob = _verified(trawl, mailer, "bob@example.org")
    trawl.shares.grant(owner, project, "bob@example.org", "editor")
    with pytest.raises(Forbidden):
        trawl.shares.grant(bob, project, "x@example.org", "viewer")
    with pytest.raises(NotFound):
        trawl.shares.grant(stranger, project, "x@example.org", "viewer")
    with pytest.raises(Forbidden):
        trawl.share_queries.shares(bob, project)


def test_an_archived_project_refuses_new_shares(trawl: Trawl, owner: Caller, project: UUID) -> None:
    trawl.projects.archive(owner, project)
    with pytest.raises(projects_errors.ProjectArchived):
        trawl.shares.grant(owner, project, "bob@example.org", "viewer")


def test_the_share_list_shows_shares_and_pending_invitations_with_emails(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    _verified(trawl, mailer, "bob@example.org")
    trawl.shares.grant(owner, project, "bob@example.org", "viewer")
    trawl.shares.grant(owner, project, "zoe@example.org", "editor")
    listed = {
        (row.kind, row.email, row.role) for row in trawl.share_queries.shares(owner, project).items
    }
    assert listed == {
        ("share", "bob@example.org", "viewer"),
        ("invitation", "zoe@example.org", "editor"),
    }


def test_a_share_link_acts_with_its_role_on_its_project_only(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    other = trawl.projects.create(owner, "Other").id
    link = trawl.shares.create_link(owner, project, "viewer", 3600)
    holder = trawl.links.caller(link.extra["token"])
    assert holder is not None and holder.actor == f"link:{link.id}"
    assert trawl.project_queries.get(holder, project).role == "viewer"
    with pytest.raises(NotFound):
        trawl.project_queries.get(holder, other)
    assert trawl.project_queries.list(holder).items == []
    with pytest.raises(Forbidden):
        trawl.projects.update(holder, project, name="Taken over")


def test_a_revoked_or_expired_link_stops_working(
    trawl: Trawl, owner: Caller, project: UUID
) -> None:
    link = trawl.shares.create_link(owner, project, "editor", 60)
    token = link.extra["token"]
    later = LinkResolver(trawl.store, lambda: datetime.now(UTC) + timedelta(seconds=61))
    assert later.caller(token) is None
    trawl.shares.revoke_link(owner, project, link.id)
    assert trawl.links.caller(token) is None
    assert trawl.links.caller("tsl_not-a-real-token") is None


def test_link_lifetimes_are_bounded(trawl: Trawl, owner: Caller, project: UUID) -> None:
    for seconds in (59, 90 * 86400 + 1):
        with pytest.raises(shares_errors.InvalidExpiry):
            trawl.shares.create_link(owner, project, "viewer", seconds)


def test_the_link_token_is_never_in_an_event(trawl: Trawl, owner: Caller, project: UUID) -> None:
    link = trawl.shares.create_link(owner, project, "viewer", 3600)
    states = b"".join(n.state for n in trawl.store.recorder.select_notifications(1, 10_000))
    assert link.extra["token"].encode() not in states


def test_deleting_the_project_ends_every_grant(
    trawl: Trawl, mailer: ListMailer, owner: Caller, project: UUID
) -> None:
    bob = _verified(trawl, mailer, "bob@example.org")
    trawl.shares.grant(owner, project, "bob@example.org", "viewer")
    link = trawl.shares.create_link(owner, project, "viewer", 3600)
    trawl.projects.delete(owner, project)
    with pytest.raises(NotFound):
        trawl.project_queries.get(bob, project)
    holder = trawl.links.caller(link.extra["token"])
    assert holder is not None  # the link itself is live, but the project is gone
    with pytest.raises(NotFound):
        trawl.project_queries.get(holder, project)
