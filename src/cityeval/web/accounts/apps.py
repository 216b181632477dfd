from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "cityeval.web.accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from cityeval.web.accounts.twofactor import required_roles_check

        required_roles_check()
