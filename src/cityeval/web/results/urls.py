from django.urls import path

from cityeval.web.results import followup_views, peer_views, planner_views, trend_views, views

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
    path("follow-up/", followup_views.rates, name="followup_rates"),
    path("follow-up/review/<slug:cycle>/<slug:region>/", followup_views.review, name="followup_review"),
    path("r/<slug:region>/follow-up/", followup_views.region_actions, name="followup_region"),
    path("r/<slug:region>/follow-up/from/<slug:cycle>/", followup_views.create, name="followup_create"),
    path("r/<slug:region>/follow-up/<uuid:action>/", followup_views.action, name="followup_action"),
    path(
        "r/<slug:region>/follow-up/<uuid:action>/change/",
        followup_views.action_change,
        name="followup_change",
    ),
    path(
        "r/<slug:region>/follow-up/<uuid:action>/evidence/",
        followup_views.evidence_add,
        name="followup_evidence",
    ),
    path(
        "r/<slug:region>/follow-up/<uuid:action>/evidence/<uuid:evidence>/",
        followup_views.evidence_file,
        name="followup_file",
    ),
    path(
        "follow-up/review/<slug:cycle>/<slug:region>/evidence/<uuid:evidence>/",
        followup_views.review_file,
        name="followup_review_file",
    ),
    path("r/<slug:region>/<slug:cycle>/results/", views.region, name="region"),
    path("r/<slug:region>/<slug:cycle>/results/letter.pdf", views.region_letter, name="region_letter"),
    path("r/<slug:region>/<slug:cycle>/results/planner/", planner_views.planner, name="planner"),
    path(
        "r/<slug:region>/<slug:cycle>/results/planner/action-plan.xlsx",
        planner_views.planner_export,
        name="planner_export",
    ),
    path(
        "r/<slug:region>/<slug:cycle>/results/planner/action-plan.pdf",
        planner_views.planner_pdf,
        name="planner_pdf",
    ),
    # the planner of the self-assessment claims, before evaluation (linked from its overview)
    path(
        "r/<slug:region>/<slug:cycle>/self-assessment/planner/",
        planner_views.claims_planner,
        name="claims_planner",
    ),
    path(
        "r/<slug:region>/<slug:cycle>/self-assessment/planner/action-plan.xlsx",
        planner_views.claims_planner_export,
        name="claims_planner_export",
    ),
    path(
        "r/<slug:region>/<slug:cycle>/self-assessment/planner/action-plan.pdf",
        planner_views.claims_planner_pdf,
        name="claims_planner_pdf",
    ),
]
