"""``/jobs/``: a background job's page (imports, PDF batches) and its retry."""

from django.urls import path

from library.jobs import views

app_name = "jobs"

urlpatterns = [
    path("<int:pk>/", views.job_page, name="detail"),
    path("<int:pk>/retry/", views.job_retry, name="retry"),
]
