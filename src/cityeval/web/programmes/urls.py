from django.urls import path

from cityeval.web.programmes import views

app_name = "programmes"
_one = "r/<slug:region>/programmes/<uuid:programme>/"
urlpatterns = [
    path("r/<slug:region>/programmes/", views.programme_list, name="programme_list"),
    path("r/<slug:region>/programmes/new/", views.programme_new, name="programme_new"),
    path(_one, views.programme_detail, name="programme_detail"),
    path(_one + "quick-win/<slug:cycle>/", views.quick_win_criteria_view, name="quick_win_criteria"),
    path(_one + "risks/", views.risk_add_view, name="risk_add"),
    path(_one + "risks/<uuid:risk>/delete/", views.risk_delete_view, name="risk_delete"),
]
