"""Panel pages. No integer ids: cycles by slug, stages by code (stage_1, stage_2), regions by
slug, panels by their public id."""

from django.urls import path, register_converter

from cityeval.web.evaluations.models import Stage
from cityeval.web.panels import scoring_views, views


class StageConverter:
    regex = "|".join(Stage.Kind.values)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(StageConverter, "stage")

app_name = "panels"
_panel = "panels/<uuid:panel>/"
_region = "panels/cycles/<slug:cycle>/<stage:stage>/<slug:region>/"
urlpatterns = [
    path("panels/", views.mine, name="mine"),
    path("panels/conflicts/", views.conflicts, name="conflicts"),
    path("panels/cycles/<slug:cycle>/", views.panel_list, name="panel_list"),
    path("panels/cycles/<slug:cycle>/import/", views.assignments_import, name="assignments_import"),
    path(_panel, views.panel_detail, name="panel_detail"),
    path(_panel + "members/", views.member_add, name="member_add"),
    path(_panel + "members/remove/", views.member_remove, name="member_remove"),
    path(_panel + "chair/", views.chair_set, name="chair_set"),
    path(_panel + "regions/", views.region_assign, name="region_assign"),
    path(_panel + "regions/remove/", views.region_unassign, name="region_unassign"),
    path(_region, scoring_views.region_page, name="region"),
    path(_region + "scores/", scoring_views.scores_save, name="scores_save"),
    path(_region + "submit/", scoring_views.submit, name="submit"),
    path(_region + "revisions/", scoring_views.revise, name="revise"),
    path(_region + "evidence-requests/", scoring_views.evidence_request, name="evidence_request"),
    path(_region + "feedback/", scoring_views.feedback, name="feedback"),
    path(_region + "interview/", scoring_views.interview, name="interview"),
    path(_region + "consolidation/", scoring_views.consolidation, name="consolidation"),
]
