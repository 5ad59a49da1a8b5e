"""The pipeline's pointer mapper: Klaviyo's JSON pointers back to the entry of the request."""

from __future__ import annotations

import pytest

from integrations.klaviyo.errors import ErrorItem, KlaviyoBadRequestError
from notifyme.delivery import pointers


@pytest.mark.parametrize(("pointer", "base", "index"), [
    ("/data/attributes/profiles/data/3", pointers.PROFILES, 3),
    ("/data/attributes/profiles/data/3/attributes/email", pointers.PROFILES, 3),
    ("/data/attributes/events-bulk-create/data/12/attributes/profile/data/attributes/email",
     pointers.EVENTS, 12),
    ("/data/attributes/profiles/data/x/attributes", pointers.PROFILES, None),
    ("/data/attributes/profiles/data/31x", pointers.PROFILES, None),
    ("/data/relationships/list", pointers.PROFILES, None),
    ("/data/attributes/profiles/data/3", pointers.EVENTS, None),
    ("/data/attributes/profile/data/attributes/email", pointers.NONE, None),
    ("", pointers.PROFILES, None),
])
def test_index_of(pointer: str, base: str, index: int | None) -> None:
    assert pointers.index_of(pointer, base) == index


def test_pointed_indexes_keep_the_first_detail_per_entry() -> None:
    error = KlaviyoBadRequestError(status=400, errors=[
        ErrorItem(detail="bad email", pointer="/data/attributes/profiles/data/2/attributes/email"),
        ErrorItem(detail="bad phone",
                  pointer="/data/attributes/profiles/data/2/attributes/phone_number"),
        ErrorItem(title="Invalid", pointer="/data/attributes/profiles/data/5"),
        ErrorItem(detail="not a record", pointer="/data/attributes/custom_source"),
    ])
    assert pointers.pointed_indexes(error, pointers.PROFILES) == {
        2: ("/data/attributes/profiles/data/2/attributes/email", "bad email"),
        5: ("/data/attributes/profiles/data/5", "Invalid"),
    }
