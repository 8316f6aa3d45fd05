from django.contrib.auth import views as auth_views
from django.urls import path

from . import connect_views, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/confirm/<str:uidb64>/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    path("dashboard/", connect_views.dashboard, name="dashboard"),
    path("dashboard/balance/", connect_views.balance_refresh, name="balance_refresh"),
    path("onboarding/", connect_views.onboarding, name="onboarding"),
    path("onboarding/start/", connect_views.onboarding_start, name="onboarding_start"),
    path("onboarding/refresh/", connect_views.onboarding_refresh, name="onboarding_refresh"),
    path("onboarding/return/", connect_views.onboarding_return, name="onboarding_return"),
]
