"""Reading list URLs, mounted at /lists/. Every write is a POST (see ``access``)."""

from django.urls import path

from library.readinglists import editing, views

app_name = "readinglists"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("add/", editing.add_piece, name="add_piece"),
    path("shared/<str:token>/", views.shared, name="shared"),
    path("shared/<str:token>/print/", views.shared_print, name="shared_print"),
    path("shared/<str:token>/export/<str:fmt>/", views.shared_export, name="shared_export"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/print/", views.print_view, name="print"),
    path("<int:pk>/export/<str:fmt>/", views.export, name="export"),
    path("<int:pk>/settings/", views.manage, name="manage"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/duplicate/", views.duplicate, name="duplicate"),
    path("<int:pk>/visibility/", views.visibility, name="visibility"),
    path("<int:pk>/link/", views.reissue_link, name="reissue_link"),
    path("<int:pk>/collaborators/", views.add_collaborator, name="add_collaborator"),
    path(
        "<int:pk>/collaborators/<int:user_id>/remove/",
        views.remove_collaborator,
        name="remove_collaborator",
    ),
    path("<int:pk>/find/", editing.find, name="find"),
    path("<int:pk>/sections/", editing.section_add, name="section_add"),
    path("<int:pk>/order/", editing.section_reorder, name="section_reorder"),
    path("<int:pk>/sections/<int:section_id>/move/", editing.section_move, name="section_move"),
    path(
        "<int:pk>/sections/<int:section_id>/rename/", editing.section_rename, name="section_rename"
    ),
    path(
        "<int:pk>/sections/<int:section_id>/delete/", editing.section_delete, name="section_delete"
    ),
    path("<int:pk>/entries/<int:entry_id>/move/", editing.entry_move, name="entry_move"),
    path("<int:pk>/entries/<int:entry_id>/edit/", editing.entry_edit, name="entry_edit"),
    path("<int:pk>/entries/<int:entry_id>/remove/", editing.entry_remove, name="entry_remove"),
]
