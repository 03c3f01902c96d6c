"""``/import/``: the editor's citation import (upload, preview, confirm)."""

from django.urls import path

from library.imports import views

app_name = "imports"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("confirm/", views.confirm, name="confirm"),
    path("cancel/", views.cancel, name="cancel"),
]
