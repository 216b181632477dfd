from django.urls import path

from cityeval.web.assessments import evidence_views, task_views, views

app_name = "assessments"
_base = "r/<slug:region>/<slug:cycle>/self-assessment/"
urlpatterns = [
    path("tasks/", task_views.tasks, name="tasks"),
    path(_base, views.overview, name="overview"),
    path(_base + "assign/", views.assign, name="assign"),
    path(_base + "submit/", views.submit, name="submit"),
    path(_base + "reopen/", views.reopen, name="reopen"),
    path(_base + "items/<str:item>/", views.item_detail, name="item"),
    path(_base + "items/<str:item>/evidence/", evidence_views.evidence_add, name="evidence_add"),
    path(_base + "items/<str:item>/kkpd-summary/", views.kkpd_summary_attach, name="kkpd_summary_attach"),
    path("evidence/<uuid:evidence>/", views.evidence_download, name="evidence_download"),
]
