"""Data privacy: `POST /api/data-privacy-deletion-jobs` (scope `data-privacy:write`).

Klaviyo deletes every profile the one identifier names (`id`, `email` or `phone_number`; more
than one is a 400) asynchronously and answers 202 with no body; the sandbox deletes at once
(`AccountState.delete_profile`: profile, memberships, consent, events) and records the job in
`AccountState.deletions` (which identifier was used and which profile ids went — never the email
or phone itself), shown by `GET /_sandbox/accounts/{id}/deletions`. An identifier that names no
profile is still accepted (Klaviyo does not reveal whether a profile existed).
"""

from __future__ import annotations

from .errors import invalid
from .ids import now_iso, ulid
from .web import Request, Response

IDENTIFIERS = ("email", "phone_number")


def request_profile_deletion(req: Request) -> Response:
    assert req.account is not None
    profile = req.body["data"]["attributes"]["profile"]["data"]
    attrs = profile.get("attributes") or {}
    given = [name for name in IDENTIFIERS if attrs.get(name)]
    if profile.get("id"):
        given.insert(0, "id")
    if len(given) != 1:
        raise invalid("Provide exactly one of email, phone_number or id.",
                      "/data/attributes/profile/data")
    name = given[0]
    value = profile["id"] if name == "id" else attrs[name]
    found = req.account.lookup(name, value)
    deleted = [found.id] if found is not None else []
    if found is not None:
        req.account.delete_profile(found)
    req.account.deletions.append({"id": ulid(), "identifier": name, "profile_ids": deleted,
                                  "requested_at": now_iso()})
    return Response(202, None)
