"""Top-level URL configuration."""

from django.contrib import admin
from django.urls import include, path

from library.health import health
from library.readinglists.accounts import signup

admin.site.site_header = "Dossier administration"
admin.site.site_title = "Dossier admin"

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/signup/", signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("lists/", include("library.readinglists.urls")),
    path("search/", include("library.search.urls")),
    path("import/", include("library.imports.urls")),
    path("jobs/", include("library.jobs.urls")),
    path("api/", include("library.api.urls")),
    path("", include("library.protocols.urls")),
    path("", include("library.catalogue.urls")),
]
