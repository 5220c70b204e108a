"""The authorization matrix: every route of the app, every kind of principal.

One table declares the status each principal gets on each route; the rows
must cover exactly the app's route table, so a new route without a decision
fails here. Cells run against one world per module (see matrix.py): routes
that change what later cells see run on a scene of their own (`fresh`), and
a few rows repeat a route on an archived or deleted project, where the order
of checks shows: no principal 401 -> no access 404 -> role too small 403 ->
state 409.

Decisions the table encodes:
- a dead share link (expired, revoked, unknown) is 404 on a project's
  routes, like a live link to another project, and 401 elsewhere;
- a live link is 403 where an account is needed (/me, API keys, creating a
  project, leaving, accepting) and lists no projects;
- auditors and admins get nothing on projects from their role (their
  routes are the audit ones); owners cannot leave their own project (404:
  they hold no share);
- accepting an invitation addressed to someone else is 403, whoever asks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap_memory
from interfaces.http.app import create_app
from tests.unit.interfaces.http.api import PASSWORD, ListMailer, unique_email
from tests.unit.interfaces.http.matrix import PRINCIPALS, Scene, World

pytestmark = pytest.mark.unit

SHARED, FRESH, ARCHIVED, DELETED = "shared", "fresh", "archived", "deleted"
NEW_SCENE = {FRESH: "active", ARCHIVED: "archived", DELETED: "deleted"}

ME, AUTH, KEYS = "/api/v1/me", "/api/v1/auth", "/api/v1/auth/api-keys"
PROJECTS = "/api/v1/projects"
PROJECT = PROJECTS + "/{project_id}"
SHARES, LINKS = PROJECT + "/shares", PROJECT + "/share-links"
SHARE, LINK = "/api/v1/shares/{share_id}", LINKS + "/{link_id}"
ACCEPT = "/api/v1/invitations/{token}/accept"
URLS, URL = PROJECT + "/urls", "/api/v1/urls/{url_id}"
AUDIT, AGGREGATE = "/api/v1/audit", "/api/v1/audit/aggregates/{aggregate_id}"
FORGET = "/api/v1/users/{user_id}/forget"
SEARCH = PROJECT + "/search?q=harbour+cranes"

# own: owner  edi/vie: editor/viewer share  lkv/lke: viewer/editor link
# lkx/lkr: expired/revoked link  str: stranger  inv: unverified invitee
# aud: auditor  adm: admin  ano: anonymous
# fmt: off
MATRIX: dict[tuple[str, str, str], str] = {
    # method, path, scene                      own edi vie lkv lke lkx lkr str inv aud adm ano
    ("GET", "/health/live", SHARED):           "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/health/ready", SHARED):          "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/metrics", SHARED):               "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/asyncapi.json", SHARED):         "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/schema", SHARED):                "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/schema/openapi.json", SHARED):   "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/schema/scalar", SHARED):         "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/schema/{path}", SHARED):         "404 404 404 404 404 404 404 404 404 404 404 404",
    ("POST", AUTH + "/register", SHARED):      "201 201 201 201 201 201 201 201 201 201 201 201",
    ("POST", AUTH + "/verify-email", SHARED):  "200 200 200 200 200 200 200 200 200 200 200 200",
    ("POST", AUTH + "/token", SHARED):         "200 200 200 200 200 200 200 200 200 200 200 200",
    ("GET", "/api/v1/system/projections", SHARED):
                                               "200 200 200 200 200 401 401 200 200 200 200 401",
    ("GET", "/api/v1/system/jobs", SHARED):
                                               "403 403 403 403 403 401 401 403 403 403 200 401",
    ("GET", ME, SHARED):                       "200 200 200 403 403 401 401 200 200 200 200 401",
    ("POST", AUTH + "/verify-email/resend", SHARED):
                                               "200 200 200 403 403 401 401 200 200 200 200 401",
    ("POST", AUTH + "/password", SHARED):      "200 200 200 403 403 401 401 200 200 200 200 401",
    ("GET", KEYS, SHARED):                     "200 200 200 403 403 401 401 200 200 200 200 401",
    ("POST", KEYS, SHARED):                    "201 201 201 403 403 401 401 201 201 201 201 401",
    ("DELETE", KEYS + "/{key_id}", SHARED):    "200 404 404 403 403 401 401 404 404 404 404 401",
    ("GET", PROJECTS, SHARED):                 "200 200 200 200 200 401 401 200 200 200 200 401",
    ("POST", PROJECTS, SHARED):                "201 201 201 403 403 401 401 201 201 201 201 401",
    ("GET", PROJECT, SHARED):                  "200 200 200 200 200 404 404 404 404 404 404 401",
    ("PATCH", PROJECT, SHARED):                "200 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/archive", FRESH):     "200 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/restore", ARCHIVED):  "200 403 403 403 403 404 404 404 404 404 404 401",
    ("DELETE", PROJECT, FRESH):                "200 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", SHARES, SHARED):                  "201 403 403 403 403 404 404 404 404 404 404 401",
    ("GET", SHARES, SHARED):                   "200 403 403 403 403 404 404 404 404 404 404 401",
    ("PATCH", SHARE, FRESH):                   "200 403 403 403 403 404 404 404 404 404 404 401",
    ("DELETE", SHARE, FRESH):                  "200 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/leave", FRESH):       "404 200 200 403 403 404 404 404 404 404 404 401",
    ("POST", LINKS, SHARED):                   "201 403 403 403 403 404 404 404 404 404 404 401",
    ("GET", LINKS, SHARED):                    "200 403 403 403 403 404 404 404 404 404 404 401",
    ("DELETE", LINK, FRESH):                   "200 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", ACCEPT, SHARED):                  "403 403 403 403 403 401 401 403 403 403 403 401",
    ("POST", URLS, SHARED):                    "202 202 403 403 202 404 404 404 404 404 404 401",
    ("GET", URLS, SHARED):                     "200 200 200 200 200 404 404 404 404 404 404 401",
    ("GET", URL, SHARED):                      "200 200 200 200 200 404 404 404 404 404 404 401",
    ("DELETE", URL, FRESH):                    "200 200 403 403 200 404 404 404 404 404 404 401",
    ("POST", URL + "/refresh", SHARED):        "202 202 403 403 202 404 404 404 404 404 404 401",
    ("GET", URL + "/versions", SHARED):        "200 200 200 200 200 404 404 404 404 404 404 401",
    ("GET", URL + "/chunks", SHARED):          "200 200 200 200 200 404 404 404 404 404 404 401",
    ("GET", URL + "/text", SHARED):            "200 200 200 200 200 404 404 404 404 404 404 401",
    ("PATCH", PROJECT + "/settings", SHARED):  "200 403 403 403 403 404 404 404 404 404 404 401",
    # audit: the log and verify for auditors/admins; a project's history also for its owner
    ("GET", AUDIT + "/events", SHARED):        "403 403 403 403 403 401 401 403 403 200 200 401",
    ("GET", AUDIT + "/verify", SHARED):        "403 403 403 403 403 401 401 403 403 200 200 401",
    ("GET", AGGREGATE + "/events", SHARED):    "200 404 404 404 404 401 401 404 404 200 200 401",
    ("GET", AGGREGATE + "/state", SHARED):     "200 404 404 404 404 401 401 404 404 200 200 401",
    ("POST", FORGET, SHARED):                  "403 403 403 403 403 401 401 403 403 403 200 401",
    ("GET", SEARCH, SHARED):                   "200 200 200 200 200 404 404 404 404 404 404 401",
    # archived: readable; commands refused (409) once the role allows them
    ("GET", PROJECT, ARCHIVED):                "200 200 200 200 200 404 404 404 404 404 404 401",
    ("PATCH", PROJECT, ARCHIVED):              "409 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/archive", ARCHIVED):  "409 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", SHARES, ARCHIVED):                "409 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", LINKS, ARCHIVED):                 "409 403 403 403 403 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/leave", ARCHIVED):    "404 409 409 403 403 404 404 404 404 404 404 401",
    ("GET", URLS, ARCHIVED):                   "200 200 200 200 200 404 404 404 404 404 404 401",
    ("POST", URLS, ARCHIVED):                  "409 409 403 403 409 404 404 404 404 404 404 401",
    ("DELETE", URL, ARCHIVED):                 "409 409 403 403 409 404 404 404 404 404 404 401",
    ("POST", URL + "/refresh", ARCHIVED):      "409 409 403 403 409 404 404 404 404 404 404 401",
    ("GET", URL + "/text", ARCHIVED):          "200 200 200 200 200 404 404 404 404 404 404 401",
    ("PATCH", PROJECT + "/settings", ARCHIVED):"409 403 403 403 403 404 404 404 404 404 404 401",
    ("GET", SEARCH, ARCHIVED):                 "200 200 200 200 200 404 404 404 404 404 404 401",
    # deleted: gone for everyone (live links included)
    ("GET", PROJECT, DELETED):                 "404 404 404 404 404 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/restore", DELETED):   "404 404 404 404 404 404 404 404 404 404 404 401",
    ("GET", SHARES, DELETED):                  "404 404 404 404 404 404 404 404 404 404 404 401",
    ("POST", PROJECT + "/leave", DELETED):     "404 404 404 403 403 404 404 404 404 404 404 401",
    ("GET", URLS, DELETED):                    "404 404 404 404 404 404 404 404 404 404 404 401",
    ("POST", URLS, DELETED):                   "404 404 404 404 404 404 404 404 404 404 404 401",
    ("GET", URL, DELETED):                     "404 404 404 404 404 404 404 404 404 404 404 401",
    ("DELETE", URL, DELETED):                  "404 404 404 404 404 404 404 404 404 404 404 401",
    ("POST", URL + "/refresh", DELETED):       "404 404 404 404 404 404 404 404 404 404 404 401",
    ("GET", URL + "/chunks", DELETED):         "404 404 404 404 404 404 404 404 404 404 404 401",
    ("PATCH", PROJECT + "/settings", DELETED): "404 404 404 404 404 404 404 404 404 404 404 401",
    # ... but its history stays readable through the audit routes
    ("GET", AGGREGATE + "/events", DELETED):   "200 404 404 404 404 401 401 404 404 200 200 401",
    ("GET", AGGREGATE + "/state", DELETED):    "200 404 404 404 404 401 401 404 404 200 200 401",
    ("GET", SEARCH, DELETED):                  "404 404 404 404 404 404 404 404 404 404 404 401",
}
# fmt: on

# What fills each path parameter, in a scene.
PARAMETERS: dict[str, Callable[[World, Scene], str]] = {
    "project_id": lambda world, scene: str(scene.project_id),
    "share_id": lambda world, scene: str(scene.spare_invitation),
    "link_id": lambda world, scene: str(scene.spare_link),
    "url_id": lambda world, scene: str(scene.url_id),
    "token": lambda world, scene: scene.invitation_token,
    "key_id": lambda world, scene: world.owner_api_key(),
    "path": lambda world, scene: "no-such-document",
    "aggregate_id": lambda world, scene: str(scene.project_id),
    "user_id": lambda world, scene: world.fresh_account(),
}
BODIES: dict[tuple[str, str], Callable[[World], Any]] = {
    ("POST", AUTH + "/register"): lambda world: {
        "email": unique_email("new"),
        "password": PASSWORD,
        "display_name": "New",
    },
    ("POST", AUTH + "/verify-email"): lambda world: {"token": world.verification_token()},
    ("POST", AUTH + "/token"): lambda world: {
        "email": world.emails["owner"],
        "password": PASSWORD,
    },
    ("POST", AUTH + "/password"): lambda world: {"current": PASSWORD, "new": PASSWORD},
    ("POST", KEYS): lambda world: {"name": "matrix"},
    ("POST", PROJECTS): lambda world: {"name": "Made here"},
    ("PATCH", PROJECT): lambda world: {"name": "Renamed"},
    ("POST", SHARES): lambda world: {"email": unique_email("grantee"), "role": "viewer"},
    ("PATCH", SHARE): lambda world: {"role": "editor"},
    ("POST", LINKS): lambda world: {"role": "viewer", "expires_in_seconds": 600},
    ("POST", URLS): lambda world: {"urls": ["https://example.com/matrix", "ftp://x/"]},
    ("PATCH", PROJECT + "/settings"): lambda world: {"chunk_size": 900},
}
SIGNS_OUT = {("POST", AUTH + "/password")}  # the caller's token stops working
# Litestar's OpenAPI router answers unknown schema documents with its own HTML page.
NOT_PROBLEM_JSON = {("GET", "/schema/{path}")}
PARAMETER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = Settings(
        data_dir=str(tmp_path_factory.mktemp("matrix")), token_rate_limit_per_minute=100_000
    )
    mailer = ListMailer()
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    trawl = bootstrap_memory(settings, mailer=mailer, hasher=hasher)
    with TestClient(create_app(trawl)) as client:
        yield World(trawl, client, mailer)
    trawl.close()


def app_routes(world: World) -> set[tuple[str, str]]:
    return {
        (method, route.path_format)
        for route in world.client.app.routes
        if isinstance(route, HTTPRoute)
        for method in route.methods
        if method not in ("OPTIONS", "HEAD")
    }


def test_every_route_of_the_app_has_a_row_and_every_row_a_route(world: World) -> None:
    classified = {(method, path.split("?")[0]) for method, path, _ in MATRIX}
    unclassified = sorted(app_routes(world) - classified)
    assert not unclassified, f"routes without a row in MATRIX: {unclassified}"
    assert not sorted(classified - app_routes(world)), "rows for routes the app does not have"


def test_search_needs_a_query_of_sensible_size_and_a_known_mode(world: World) -> None:
    owner = world.headers("owner", world.shared)
    path = f"/api/v1/projects/{world.shared.project_id}/search"
    for query in (
        "?q=",
        "?q=%20%20",
        "?q=" + "x" * 1001,
        "?q=a&k=0",
        "?q=a&k=101",
        "?q=a&mode=fuzzy",
    ):
        answer = world.client.get(path + query, headers=owner)
        assert answer.status_code == 400, (query, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_every_row_has_a_status_for_every_principal() -> None:
    for key, codes in MATRIX.items():
        assert len(codes.split()) == len(PRINCIPALS), key


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_each_route_answers_the_principal_as_the_matrix_says(world: World, principal: str) -> None:
    column = PRINCIPALS.index(principal)
    wrong = []
    for (method, path, state), codes in MATRIX.items():
        expected = int(codes.split()[column])
        scene = world.shared if state == SHARED else world.scene(NEW_SCENE[state])
        url = PARAMETER.sub(lambda m, s=scene: PARAMETERS[m.group(1)](world, s), path)
        body = BODIES[method, path](world) if (method, path) in BODIES else None
        answer = world.client.request(
            method, url, headers=world.headers(principal, scene), json=body
        )
        if (method, path) in SIGNS_OUT:
            world.signed_out(principal)
        problem = answer.headers.get("content-type", "").startswith("application/problem+json")
        problem = problem or (method, path) in NOT_PROBLEM_JSON
        if answer.status_code != expected or (expected >= 400 and not problem):
            wrong.append(f"  {method} {path} [{state}]: {expected} expected, got {_brief(answer)}")
    if wrong:
        pytest.fail(f"{len(wrong)} wrong cells for {principal}:\n" + "\n".join(wrong), False)


def _brief(answer: Any) -> str:
    return f"{answer.status_code} {answer.text[:160]}"


def test_options_answer_without_credentials(world: World) -> None:
    for method, path in sorted(app_routes(world)):
        url = PARAMETER.sub(lambda m: PARAMETERS[m.group(1)](world, world.shared), path)
        answer = world.client.options(url)
        assert answer.status_code == 204, (path, answer.text)
        assert method in answer.headers["allow"], (method, path)
