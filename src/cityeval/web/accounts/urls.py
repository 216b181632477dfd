from django.contrib.auth import views as auth_views
from django.urls import path

from cityeval.web.accounts import (
    audit_views,
    invitation_views,
    passwords,
    people_views,
    twofactor_views,
    views,
)

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", passwords.PasswordChangeView.as_view(), name="password_change"),
    path("password/changed/", passwords.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("two-factor/", twofactor_views.twofactor, name="twofactor"),
    path("two-factor/code/", twofactor_views.twofactor_verify, name="twofactor_verify"),
    path("two-factor/recovery-codes/", twofactor_views.twofactor_codes, name="twofactor_codes"),
    path("two-factor/recovery-codes.txt", twofactor_views.twofactor_codes_txt, name="twofactor_codes_txt"),
    path("two-factor/recovery-codes/new/", twofactor_views.twofactor_regenerate, name="twofactor_regenerate"),
    path("two-factor/off/", twofactor_views.twofactor_off, name="twofactor_off"),
    path("password/reset/", passwords.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent/", passwords.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/", passwords.PasswordResetCompleteView.as_view(), name="password_reset_complete"
    ),
    path("invitations/", invitation_views.invitations_national, name="invitations"),
    path("invitations/r/<str:region>/", invitation_views.invitations_regional, name="invitations_regional"),
    path("invitations/<str:ref>/resend/", invitation_views.invitation_resend_view, name="invitation_resend"),
    path("invitations/<str:ref>/revoke/", invitation_views.invitation_revoke_view, name="invitation_revoke"),
    path("invitation/<str:token>/", invitation_views.invitation_accept_view, name="invitation_accept"),
    path("people/", people_views.people, name="people"),
    path("people/deactivate/", people_views.person_deactivate, name="person_deactivate"),
    path("people/reactivate/", people_views.person_reactivate, name="person_reactivate"),
    path("people/r/<str:region>/", people_views.region_people, name="people_region"),
    path(
        "people/r/<str:region>/deactivate/", people_views.region_member_deactivate, name="member_deactivate"
    ),
    path(
        "people/r/<str:region>/reactivate/", people_views.region_member_reactivate, name="member_reactivate"
    ),
    path("tokens/", views.tokens, name="tokens"),
    path("outbox/", views.outbox, name="outbox"),
    path("tokens/<str:hint>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", audit_views.audit_list, name="audit"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
