from django.contrib.auth import views as auth_views
from django.urls import path

from cityeval.web.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<str:hint>/revoke/", views.token_revoke, name="token_revoke"),
]
