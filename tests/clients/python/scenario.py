"""A client generated from tollgate's /openapi.json by openapi-python-client, used alone.

tests/e2e/generated_clients.rs generates the `tollgate_client` package and runs this with
TOLLGATE_URL and TOLLGATE_TOKEN (an instance admin token) set. Only the generated code talks to
the server: if the document does not describe what the server does, a call below fails or
parses into the wrong type. Exits non-zero with a message on the first broken expectation.
"""

import os
import sys
from http import HTTPStatus

from tollgate_client import AuthenticatedClient
from tollgate_client.api.instance import (
    create_instance_token,
    list_instance_tokens,
    revoke_instance_token,
)
from tollgate_client.api.spaces import create_space
from tollgate_client.api.tokens import (
    create_token,
    get_token,
    list_tokens,
    revoke_token,
    rotate_token,
    whoami,
)
from tollgate_client.models import (
    CreatedToken,
    CreateInstanceTokenRequest,
    CreateSpaceRequest,
    CreateTokenRequest,
    ErrorCode,
    Problem,
    Space,
    Token,
    TokenLevel,
    TokenPage,
    TokenStatus,
    TokenStatusFilter,
    Whoami,
)
from tollgate_client.types import UNSET


def check(condition, what):
    if not condition:
        sys.exit(f"generated client scenario: {what}")


URL = os.environ["TOLLGATE_URL"]
ADMIN = os.environ["TOLLGATE_TOKEN"]

# Either header alone is enough (the document's security alternatives).
bearer = AuthenticatedClient(base_url=URL, token=ADMIN, raise_on_unexpected_status=True)
header = AuthenticatedClient(
    base_url=URL,
    token=ADMIN,
    prefix="",
    auth_header_name="x-undb-api-token",
    raise_on_unexpected_status=True,
)
for client in (bearer, header):
    me = whoami.sync(client=client)
    check(isinstance(me, Whoami), f"whoami parses into Whoami: {me!r}")
    check(me.level == TokenLevel.ADMIN, f"an instance admin is admin-level: {me!r}")
    check(me.space_id is None, f"an instance admin has no space: {me!r}")

# Create.
space = create_space.sync(client=bearer, body=CreateSpaceRequest(name="generated"))
check(isinstance(space, Space), f"a space: {space!r}")
created = []
for n in range(5):
    token = create_token.sync(
        space_id=space.id,
        client=bearer,
        body=CreateTokenRequest(name=f"client {n}", level=TokenLevel.CLIENT),
    )
    check(isinstance(token, CreatedToken), f"a created token: {token!r}")
    check(token.token.startswith("tgc_"), "the token string, shown once")
    check(token.status == TokenStatus.ACTIVE, f"active: {token.status!r}")
    created.append(token)

# List with pagination: every token once, in order, two at a time.
seen = []
cursor = UNSET
while True:
    page = list_tokens.sync(space_id=space.id, client=bearer, limit=2, cursor=cursor)
    check(isinstance(page, TokenPage), f"a page: {page!r}")
    check(len(page.items) <= 2, "at most `limit` items")
    seen.extend(t.id for t in page.items)
    if not page.next_cursor:
        break
    cursor = page.next_cursor
check(seen == [t.id for t in created], f"pages hold every token once: {seen}")

# Rotate with no body at all.
old = created[0]
response = rotate_token.sync_detailed(space_id=space.id, token_id=old.id, client=bearer)
check(response.status_code == HTTPStatus.CREATED, f"rotate: {response.status_code} {response.content!r}")
replacement = response.parsed
check(isinstance(replacement, CreatedToken), f"a replacement: {replacement!r}")
check(replacement.replaces == old.id, "the replacement names the old token")

# Revoke.
response = revoke_token.sync_detailed(space_id=space.id, token_id=created[1].id, client=bearer)
check(response.status_code == HTTPStatus.NO_CONTENT, f"revoke: {response.status_code}")
revoked = get_token.sync(space_id=space.id, token_id=created[1].id, client=bearer)
check(isinstance(revoked, Token) and revoked.status == TokenStatus.REVOKED, f"revoked: {revoked!r}")

# The status filter as the generated client sends it.
page = list_tokens.sync(
    space_id=space.id,
    client=bearer,
    status=[TokenStatusFilter.REVOKED, TokenStatusFilter.ROTATED],
)
check(
    sorted(t.id for t in page.items) == sorted([old.id, created[1].id]),
    f"revoked and rotated: {[(t.name, t.status) for t in page.items]}",
)
page = list_tokens.sync(space_id=space.id, client=bearer, status=[TokenStatusFilter.ALL])
check(len(page.items) == 6, f"all six: {len(page.items)}")

# A 422 parses into the generated Problem.
lenient = AuthenticatedClient(base_url=URL, token=ADMIN)
problem = create_token.sync(
    space_id=space.id,
    client=lenient,
    body=CreateTokenRequest(name="   ", level=TokenLevel.CLIENT),
)
check(isinstance(problem, Problem), f"a 422 is a Problem: {problem!r}")
check(problem.status == 422 and problem.code == ErrorCode.INVALID_NAME, f"invalid_name: {problem!r}")

# Instance admin tokens: create one, list them, and meet the last-token rule as a Problem.
second = create_instance_token.sync(client=bearer, body=CreateInstanceTokenRequest(name="second"))
check(isinstance(second, CreatedToken) and second.space_id is None, f"an instance token: {second!r}")
listed = list_instance_tokens.sync(client=bearer)
check(second.id in [t.id for t in listed.items], "listed")
me_id = whoami.sync(client=bearer).token_id
second_client = AuthenticatedClient(base_url=URL, token=second.token)
response = revoke_instance_token.sync_detailed(token_id=me_id, client=second_client)
check(response.status_code == HTTPStatus.NO_CONTENT, f"revoke the first: {response.status_code}")
problem = revoke_instance_token.sync(token_id=second.id, client=second_client)
check(
    isinstance(problem, Problem) and problem.code == ErrorCode.LAST_INSTANCE_ADMIN_TOKEN,
    f"the last one stays: {problem!r}",
)

print("generated client scenario: ok")
