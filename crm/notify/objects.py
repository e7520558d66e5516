"""What a notification is about, as an object type and id an integration can act on (besides the web link).

Most notifications are raised with the link of the object's page; the object is read from that link unless
the caller names it (a link to a list, such as the corrections inbox, names no single object).
"""

from __future__ import annotations

import re

# The web page's path → the object's type. The same table backfills older rows (see the notify migration
# that added `object_type`).
LINK_OBJECTS = {
    "complaints": "complaint",
    "major": "major_complaint",
    "callbacks": "callback",
    "reports": "report",
    "customers": "customer",
}
_LINK = re.compile(r"^/(?P<area>[a-z-]+)/(?P<id>[0-9]{1,18})(?:[/?#]|$)")


def object_of(link: str) -> tuple[str, int | None]:
    """(object type, id) named by a page link; ("", None) for a link to a list or to nothing."""
    found = _LINK.match(link or "")
    if found is None or found["area"] not in LINK_OBJECTS:
        return "", None
    return LINK_OBJECTS[found["area"]], int(found["id"])
