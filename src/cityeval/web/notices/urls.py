from django.urls import path

from cityeval.web.notices import views

app_name = "notices"
urlpatterns = [
    path("notices/", views.notice_list, name="list"),
    path("notices/read/", views.read_all, name="read_all"),
    path("notices/preferences/", views.preferences, name="preferences"),
    path("notices/<uuid:notice>/open/", views.notice_open, name="open"),
]
