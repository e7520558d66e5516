"""The server-rendered web UI (Simplified Chinese first, English switchable).

Each area adds its pages as `api/web/<area>.py` with a `ROUTES` list, one line below.
"""

from api.web import callbacks, complaints, customers, major, notifications, pages

ROUTES = [
    *pages.ROUTES,
    *customers.ROUTES,
    *complaints.ROUTES,
    *callbacks.ROUTES,
    *notifications.ROUTES,
    *major.ROUTES,
]
