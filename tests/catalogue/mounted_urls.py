"""The whole site under ``/under/``: a second URL configuration (tests/catalogue/test_links.py)."""

from django.urls import include, path

urlpatterns = [path("under/", include("library.urls"))]
