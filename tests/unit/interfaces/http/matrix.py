"""The fixture world of the authorization matrix: principals and scenes.

A `World` is one app over the in-memory Trawl with an account per account
principal. A `Scene` is one project of the owner as every principal knows
it: an editor share, a viewer share, a pending invitation to the unverified
invitee's address, and four links (viewer, editor, expired, revoked) whose
tokens the link principals present. Scenes are built through the use cases
(fast); the cells themselves go through HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from litestar.testing import TestClient

from application.auth.principal import Caller
from application.shares.queries import LinkResolver
from application.urls.pipeline import Pipeline
from domain.common import Context
from interfaces.bootstrap import Trawl
from tests.unit.application.pipeline_fakes import FakeExtractor, FakeFetcher, article, page
from tests.unit.interfaces.http.api import PASSWORD, ListMailer, bearer, share_token, unique_email

PRINCIPALS = (
    "owner",
    "editor",
    "viewer",
    "link_viewer",
    "link_editor",
    "link_expired",
    "link_revoked",
    "stranger",
    "invitee",
    "auditor",
    "admin",
    "anonymous",
)
VERIFIED = ("owner", "editor", "viewer", "stranger", "auditor", "admin")
ACCOUNTS = (*VERIFIED, "invitee")  # the invitee holds the invited address, unverified
ROLES = {"auditor": "auditor", "admin": "admin"}
LINKS = {
    "link_viewer": ("viewer", 3600),
    "link_editor": ("editor", 3600),
    "link_expired": ("viewer", 60),
    "link_revoked": ("viewer", 3600),
}
# Links are resolved two minutes ahead: a 60 s link is expired, hour-long ones live.
LINK_CLOCK_AHEAD = timedelta(minutes=2)
SYSTEM = Context.system("matrix")


@dataclass(frozen=True)
class Scene:
    project_id: UUID
    tokens: dict[str, str]  # link principal -> its token
    invitation_token: str  # the invitee's pending invitation
    spare_invitation: UUID  # a pending invitation nobody holds, for PATCH/DELETE
    spare_link: UUID  # a live link nobody holds, for DELETE
    url_id: UUID  # a live URL of the project


class World:
    def __init__(self, trawl: Trawl, client: TestClient[Any], mailer: ListMailer) -> None:
        self.trawl, self.client, self.mailer = trawl, client, mailer
        trawl.links = LinkResolver(trawl.store, lambda: datetime.now(UTC) + LINK_CLOCK_AHEAD)
        self.emails = {name: unique_email(name) for name in ACCOUNTS}
        self.ids = {name: self._account(name) for name in ACCOUNTS}
        self._bearers: dict[str, dict[str, str]] = {}
        self.shared = self.scene()

    def _account(self, name: str) -> UUID:
        email = self.emails[name]
        user_id = self.trawl.users.register(SYSTEM, email, PASSWORD, name).id
        if name in VERIFIED:
            self.trawl.users.verify_email(SYSTEM, self.mailer.verification_token(email))
        if name in ROLES:
            self.trawl.users.set_role(SYSTEM, email, ROLES[name])
        return user_id

    @property
    def owner(self) -> Caller:
        return Caller.user(self.ids["owner"], "user")

    def scene(self, state: str = "active") -> Scene:
        """A new project of the owner with every principal in place."""
        owner, shares = self.owner, self.trawl.shares
        project = self.trawl.projects.create(owner, "Matrix").id
        for name in ("editor", "viewer"):
            shares.grant(owner, project, self.emails[name], name)
        shares.grant(owner, project, self.emails["invitee"], "viewer")
        tokens = {}
        for principal, (role, seconds) in LINKS.items():
            link = shares.create_link(owner, project, role, seconds)
            tokens[principal] = link.extra["token"]
            if principal == "link_revoked":
                shares.revoke_link(owner, project, link.id)
        scene = Scene(
            project_id=project,
            tokens=tokens,
            invitation_token=self.mailer.invitation_token(self.emails["invitee"]),
            spare_invitation=shares.grant(owner, project, unique_email("spare"), "viewer").id,
            spare_link=shares.create_link(owner, project, "viewer", 3600).id,
            url_id=self._chunked_url(project),
        )
        if state == "archived":
            self.trawl.projects.archive(owner, project)
        elif state == "deleted":
            self.trawl.projects.delete(owner, project)
        return scene

    def _chunked_url(self, project: UUID) -> UUID:
        """A URL of the project taken through fetch, extract and chunk (with fakes)."""
        added = self.trawl.urls.add_many(self.owner, project, ["https://example.com/matrix"])
        url_id = UUID(added.extra["items"][0]["id"])
        pipeline = Pipeline(
            self.trawl.store,
            FakeFetcher(page(article())),
            FakeExtractor(),
            self.trawl.url_details.blobs,
        )
        assert pipeline.fetch(url_id, uuid4(), 1).step == "extract"
        assert pipeline.extract(url_id, 1).step == "vectorize"
        return url_id

    def headers(self, principal: str, scene: Scene) -> dict[str, str]:
        if principal == "anonymous":
            return {}
        if principal in LINKS:
            return share_token(scene.tokens[principal])
        if principal not in self._bearers:
            answer = self.client.post(
                "/api/v1/auth/token",
                json={"email": self.emails[principal], "password": PASSWORD},
            )
            assert answer.status_code == 200, answer.text
            self._bearers[principal] = bearer(answer.json()["access_token"])
        return self._bearers[principal]

    def signed_out(self, principal: str) -> None:
        """The principal's token stopped working (its password changed)."""
        self._bearers.pop(principal, None)

    def owner_api_key(self) -> str:
        result = self.trawl.auth.create_api_key(SYSTEM, self.ids["owner"], "spare")
        return str(result.extra["key_id"])

    def fresh_account(self) -> str:
        """The id of a new account nobody uses (to be forgotten)."""
        return str(self.trawl.users.register(SYSTEM, unique_email("gone"), PASSWORD, "Gone").id)

    def verification_token(self) -> str:
        """The verification token of a freshly registered account."""
        email = unique_email("fresh")
        self.trawl.users.register(SYSTEM, email, PASSWORD, "Fresh")
        return self.mailer.verification_token(email)
