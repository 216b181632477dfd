from django.urls import path

from cityeval.web.jobs import views

app_name = "jobs"
urlpatterns = [
    path("jobs/<int:job_id>/", views.job_page, name="job"),
    path("jobs/<int:job_id>/retry/", views.job_retry_view, name="retry"),
    path("jobs/<int:job_id>/download/", views.job_download, name="download"),
]
