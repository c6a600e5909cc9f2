"""schemathesis hooks for scripts/fuzz-api (docs/security.md, "Fuzzing the API").

- `refusals_of_valid_requests_are_only_for_what_no_schema_can_say`, a check of ours, keeps the
  widening in scripts/fuzz-api.toml as narrow as its reasons: a schema-valid request may be
  refused only for a sealed `cursor` the server did not hand out, an `expires_at` that is no
  longer in the future, or a name or description that shows nothing.
- `filter_case` keeps the run's own token alive, and does not send as valid a case whose path
  holds `None` where a UUID belongs (what schemathesis 4 makes of a link that reads a null).
- `map_case` takes out of a valid case a header value that breaks the header's pattern (what
  schemathesis 4's coverage phase makes of a header it cannot generate).
"""

import email.utils
import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

import schemathesis

# --- what no schema can say --------------------------------------------------------------------

# Listings take `cursor`: `c2`, an id and an HMAC tag under the server's key, bound to the route,
# the space and the filters (docs/security.md, "Cursor tampering"). The document gives its form,
# but no schema tells a cursor the server handed out from any other value of that form.
LISTINGS = {"list_spaces", "list_tokens", "list_events", "list_instance_tokens"}
# Writes whose `expires_at` must be in the future: a clock, not a schema, decides.
EXPIRING = {"create_token", "create_instance_token", "update_token", "update_instance_token"}
# Writes of names and descriptions, which must show a visible character: the document's pattern
# says the rest of the rule (crates/adapters-http/src/dto/text.rs says why not this part).
NAMING = EXPIRING | {"create_space", "rename_space"}

# The invisible characters, read from the domain's one table of them, so this check and the
# server cannot disagree on what shows nothing.
_VISIBLE_RS = Path(__file__).resolve().parent.parent / "crates/domain/src/name/visible.rs"
INVISIBLE = [
    (int(first, 16), int(last, 16))
    for first, last in re.findall(
        r"\('\\u\{([0-9A-Fa-f]+)\}', '\\u\{([0-9A-Fa-f]+)\}'\)", _VISIBLE_RS.read_text()
    )
]
assert INVISIBLE, f"no invisible ranges found in {_VISIBLE_RS}"


def shows_nothing(text):
    """Whether `text` holds no visible character (`tollgate_domain::is_visible`)."""
    return not any(
        not any(first <= ord(c) <= last for first, last in INVISIBLE) for c in text.strip()
    )


def operation_id(case):
    return case.operation.definition.raw.get("operationId")


def problem_code(response):
    try:
        return json.loads(response.content).get("code")
    except (ValueError, AttributeError):
        return None


def why_a_valid_request_may_be_refused(case, response, code):
    """The reason no schema can give for refusing this request, or None."""
    op = operation_id(case)
    body = case.body if isinstance(case.body, dict) else {}
    if response.status_code == 400 and code == "invalid_cursor" and op in LISTINGS:
        return "cursor" in (case.query or {}) and "a cursor the server did not hand out"
    if response.status_code != 422:
        return None
    if code == "expires_at_not_in_future" and op in EXPIRING:
        sent = body.get("expires_at")
        answered = response.headers.get("date")
        if isinstance(sent, str) and answered:
            answered = answered[0] if isinstance(answered, list) else answered
            try:
                at = datetime.fromisoformat(sent.replace("Z", "+00:00").replace("z", "+00:00"))
                now = email.utils.parsedate_to_datetime(answered)
            except (ValueError, TypeError, OverflowError):
                return None
            if at.tzinfo is not None and at <= now.astimezone(timezone.utc).replace(
                microsecond=999_999
            ):
                return "an expires_at that was not in the future"
        return None
    if code == "invalid_name" and op in NAMING:
        name = body.get("name")
        return isinstance(name, str) and shows_nothing(name) and "a name that shows nothing"
    if code == "invalid_description" and op in EXPIRING:
        text = body.get("description")
        return isinstance(text, str) and shows_nothing(text) and "a description that shows nothing"
    return None


@schemathesis.check
def refusals_of_valid_requests_are_only_for_what_no_schema_can_say(ctx, response, case):
    """A schema-valid request to an operation where scripts/fuzz-api.toml lets
    positive_data_acceptance take a 400 or 422 is refused only for a reason no schema can give."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    op = operation_id(case)
    widened = (op in LISTINGS and response.status_code == 400) or (
        op in NAMING and response.status_code == 422
    )
    if not widened:
        return None
    code = problem_code(response)
    if not why_a_valid_request_may_be_refused(case, response, code):
        raise AssertionError(
            f"A schema-valid request was refused with {response.status_code} `{code}`, which "
            "only a sealed cursor, a past expires_at or a name that shows nothing may get"
        )
    return None


# --- the run's own token ---------------------------------------------------------------------

# scripts/fuzz-api sets them.
OWN_TOKEN_ID = os.environ.get("TOLLGATE_FUZZ_TOKEN_ID", "").lower()
OWN_SPACE_ID = os.environ.get("TOLLGATE_FUZZ_SPACE_ID", "").lower()


@schemathesis.hook
def filter_case(context, case):
    """Keeps the run's own token alive: a case that would revoke, rotate or suspend it, change
    its expiry, or delete its space, is not sent. schemathesis learns the token's id from `whoami` and the listings and
    the space's from `GET /v1/spaces`, and once the token has ended every later request of the run
    is a 401 that tests nothing. Ending one's own token is tested where it lives (the services'
    tests, tests/e2e/lifecycle.rs)."""
    method = case.method.upper()
    path = case.operation.path
    params = {k: str(v).lower() for k, v in (case.path_parameters or {}).items()}
    if OWN_TOKEN_ID and params.get("token_id") == OWN_TOKEN_ID:
        if method == "DELETE" or path.endswith(("/rotate", "/suspend")):
            return False
        # A new expiry can be a second away.
        if method == "PATCH" and isinstance(case.body, dict) and "expires_at" in case.body:
            return False
    if OWN_SPACE_ID and method == "DELETE" and path == "/v1/spaces/{space_id}":
        if params.get("space_id") == OWN_SPACE_ID:
            return False
    return not calls_a_null_an_id(case)


def is_uuid(value):
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def calls_a_null_an_id(case):
    """Whether a positive case holds something else than a UUID (`None`, sent as "None") in a
    `format: uuid` path parameter: what a link that reads a null (an instance admin token's
    `space_id`) makes in schemathesis 4. Such a case is not schema-valid, so it is not sent as
    one; negative cases test such paths."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return False
    for parameter in case.operation.definition.raw.get("parameters", []):
        schema = parameter.get("schema") or {}
        if parameter.get("in") == "path" and schema.get("format") == "uuid":
            name = parameter.get("name")
            if name in (case.path_parameters or {}) and not is_uuid(case.path_parameters[name]):
                return True
    return False


# --- cases schemathesis calls valid though they are not ----------------------------------------


@schemathesis.hook
def map_case(context, case):
    """Takes out of a positive case a header value that breaks the header's own pattern.

    schemathesis 4's coverage phase cannot make a header value of other characters than letters
    and digits, so for `X-Tollgate-Act-As` (whose pattern needs `=` and `;`) its "all
    properties" case carries `0`, which the server rightly refuses with 400 `invalid_act_as`.
    The header is optional, so the case goes without it, and is then schema-valid.
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not case.headers:
        return case
    for parameter in case.operation.definition.raw.get("parameters", []):
        pattern = (parameter.get("schema") or {}).get("pattern")
        if parameter.get("in") != "header" or not pattern or parameter.get("required"):
            continue
        for key in [k for k in case.headers if k.lower() == parameter.get("name", "").lower()]:
            if not re.search(pattern, str(case.headers[key])):
                del case.headers[key]
    return case
