from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PanelsConfig(AppConfig):
    name = "cityeval.web.panels"
    verbose_name = _("Assessor panels")
