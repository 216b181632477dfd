"""URL map. Regional pages live under /r/<region>/; no integer ids appear in URLs."""

from django.urls import include, path

from cityeval.web.accounts.views import home
from cityeval.web.api import api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("cityeval.web.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("", include("cityeval.web.evaluations.urls")),
    path("", include("cityeval.web.regions.urls")),
    path("", include("cityeval.web.programmes.urls")),
    path("", include("cityeval.web.kkpd.urls")),
    path("", include("cityeval.web.assessments.urls")),
    path("", include("cityeval.web.panels.urls")),
    path("", include("cityeval.web.results.urls")),
    path("", include("cityeval.web.surveys.urls")),
    path("", include("cityeval.web.jobs.urls")),
    path("", include("cityeval.web.notices.urls")),
]
