from django.urls import path

from cityeval.web.evaluations import views

app_name = "evaluations"
urlpatterns = [
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/new/", views.cycle_new, name="cycle_new"),
    path("frameworks/upload/", views.framework_upload, name="framework_upload"),
    path("regions/import/", views.region_import, name="region_import"),
    path("cycles/<slug:cycle>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<slug:cycle>/edit/", views.cycle_edit, name="cycle_edit"),
    path("cycles/<slug:cycle>/participants/import/", views.participants_import, name="participants_import"),
    path("cycles/<slug:cycle>/<str:action>/", views.cycle_change, name="cycle_change"),
]
