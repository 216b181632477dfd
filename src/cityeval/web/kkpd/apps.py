from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KkpdConfig(AppConfig):
    name = "cityeval.web.kkpd"
    verbose_name = _("KKPD (regional government credit card)")
