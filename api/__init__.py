"""HTTP adapter: the JSON API under /api/v1 and the server-rendered web UI."""
