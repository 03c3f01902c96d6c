"""Catalogue URLs: browsing for everyone, add/edit/delete for editors."""

from django.urls import path

from library.catalogue import export_views, upload_views, views

app_name = "catalogue"

urlpatterns = [
    path("", views.home, name="home"),
    path("pieces/", views.piece_list, name="piece_list"),
    path("pieces/new/", views.piece_create, name="piece_create"),
    path("pieces/paste/", views.piece_paste, name="piece_paste"),
    path("pieces/upload/", upload_views.piece_upload, name="piece_upload"),
    path("pieces/upload/save/", upload_views.piece_upload_save, name="piece_upload_save"),
    path("pieces/<str:key>/attachment/", upload_views.piece_attachment, name="piece_attachment"),
    path("pieces/<str:key>/", views.piece_detail, name="piece"),
    path("pieces/<str:key>/export/", export_views.piece_export, name="piece_export"),
    path("pieces/<str:key>/edit/", views.piece_edit, name="piece_edit"),
    path("pieces/<str:key>/delete/", views.piece_delete, name="piece_delete"),
    path("export/", export_views.export, name="export"),
    path("authors/", views.author_index, name="author_index"),
    path("authors/<slug:slug>/", views.author_detail, name="author"),
    path("topics/", views.topic_index, name="topic_index"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("regions/", views.region_index, name="region_index"),
    path("regions/<slug:slug>/", views.region_detail, name="region"),
]
