"""/api/: the JSON API (with /api/openapi.json and /api/docs) and the token page."""

from django.urls import path

from library.api import views
from library.api.main import api

urlpatterns = [
    path("tokens/", views.tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke, name="api_token_revoke"),
    path("", api.urls),
]
