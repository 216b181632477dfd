from django.urls import path

from cityeval.web.regions import views

app_name = "regions"
urlpatterns = [
    path("regions/", views.region_list, name="region_list"),
    path("r/<slug:region>/", views.dashboard, name="dashboard"),
    path("r/<slug:region>/opds/", views.opd_list, name="opd_list"),
]
