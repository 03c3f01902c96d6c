"""The API object: routers, authentication defaults, rate limits, the OpenAPI document."""

from __future__ import annotations

from ninja import NinjaAPI

from library.api.endpoints import pieces, readinglists, search, styles, vocabulary
from library.api.throttling import ApiRateThrottle

DESCRIPTION = """\
Read the catalogue, search it and export citations without signing in. Editors write with a
token (`Authorization: Bearer dos_…`, made at /api/tokens/) or, in the browser, with their
session and the CSRF token. Rate limits answer 429 with `Retry-After`. Details carry an
`ETag`; send it back as `If-None-Match` to get 304 when nothing changed.
"""

api = NinjaAPI(
    title="Dossier API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    throttle=[ApiRateThrottle()],
)
api.add_router("/pieces/", pieces.router)
api.add_router("/export/", pieces.export_router)
api.add_router("/search/", search.router)
api.add_router("/", vocabulary.router)
api.add_router("/lists/", readinglists.router)
api.add_router("/styles/", styles.router)
