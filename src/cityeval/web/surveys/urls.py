from django.urls import path

from cityeval.web.surveys import public, views

app_name = "surveys"
_base = "r/<slug:region>/<slug:cycle>/survey/"
urlpatterns = [
    path(_base, views.overview, name="overview"),
    path(_base + "plan/", views.plan, name="plan"),
    path(_base + "plan/generate/", views.generate, name="generate"),
    path(_base + "forms/<slug:form>/open/", views.toggle, name="toggle"),
    path(_base + "forms/<slug:form>/xlsform.xlsx", views.xlsform, name="xlsform"),
    path(_base + "forms/<slug:form>/template.csv", views.template, name="template"),
    path(_base + "forms/<slug:form>/qr.<str:kind>", views.qr_code, name="qr"),
    path(_base + "import/", views.import_responses, name="import"),
    path(_base + "quality/", views.quality, name="quality"),
    path(_base + "statistics/", views.statistics, name="statistics"),
    path(_base + "margins/", views.margins, name="margins"),
    path(_base + "recap.pdf", views.recap_pdf, name="recap_pdf"),
    path(_base + "recap.xlsx", views.recap_xlsx, name="recap_xlsx"),
    path("s/<str:token>/", public.questionnaire, name="public"),
    path("s/<str:token>/thanks/", public.thanks, name="thanks"),
]
