"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Dossier administration"
admin.site.site_title = "Dossier admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("library.catalogue.urls")),
]
