from django.urls import path

from cityeval.web.results import peer_views, planner_views, trend_views, views

app_name = "results"
urlpatterns = [
    path("results/", views.index, name="index"),
    path("results/history/import/", views.history, name="history_import"),
    # Before "results/<slug:cycle>/", which would otherwise take "trends" for a cycle's code.
    path("results/trends/", trend_views.national, name="national_trends"),
    path("results/<slug:cycle>/", views.national, name="national"),
    path("results/<slug:cycle>/distribution/", peer_views.distribution, name="distribution"),
    path("results/<slug:cycle>/compute/", views.compute, name="compute"),
    path("results/<slug:cycle>/publish/", views.publish, name="publish"),
    path("results/<slug:cycle>/national.<str:fmt>", views.national_export, name="national_export"),
    path("results/<slug:cycle>/items.<str:fmt>", views.items_export, name="items_export"),
    path(
        "results/<slug:cycle>/national.<str:fmt>/prepare/",
        views.export_prepare,
        {"table": "national"},
        name="national_export_prepare",
    ),
    path(
        "results/<slug:cycle>/items.<str:fmt>/prepare/",
        views.export_prepare,
        {"table": "items"},
        name="items_export_prepare",
    ),
    path("results/<slug:cycle>/letter.pdf", views.cycle_letter, name="cycle_letter"),
    path("results/<slug:cycle>/letter/prepare/", views.cycle_letter_prepare, name="cycle_letter_prepare"),
    path("results/<slug:cycle>/letter/", views.letter_details, name="letter_details"),
    path("r/<slug:region>/trends/", trend_views.region, name="trends"),
    path("r/<slug:region>/<slug:cycle>/results/", views.region, name="region"),
    path("r/<slug:region>/<slug:cycle>/results/letter.pdf", views.region_letter, name="region_letter"),
    path("r/<slug:region>/<slug:cycle>/results/planner/", planner_views.planner, name="planner"),
    path(
        "r/<slug:region>/<slug:cycle>/results/planner/action-plan.xlsx",
        planner_views.planner_export,
        name="planner_export",
    ),
]
