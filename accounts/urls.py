from django.contrib.auth import views as auth_views
from django.urls import path

from . import connect_views, credential_views, payment_methods_views, payout_views, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup_sent"),
    path("signup/confirm/<str:uidb64>/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("profile/", views.profile, name="profile"),
    # Passwords (Django's views, our forms and templates) and email addresses.
    path("password/reset/", credential_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password/reset/sent/",
        credential_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<str:uidb64>/<str:token>/",
        credential_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        credential_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("password/change/", credential_views.PasswordChangeView.as_view(), name="password_change"),
    path("email/change/", credential_views.email_change, name="email_change"),
    path(
        "email/change/<str:token>/",
        credential_views.email_change_confirm_view,
        name="email_change_confirm",
    ),
    path("email/verify/", credential_views.email_verify, name="email_verify"),
    path(
        "email/verify/<str:uidb64>/<str:token>/",
        credential_views.email_verify_confirm,
        name="email_verify_confirm",
    ),
    # A buyer's saved cards.
    path("payment-methods/", payment_methods_views.payment_methods, name="payment_methods"),
    path(
        "payment-methods/add/", payment_methods_views.payment_method_add, name="payment_method_add"
    ),
    path(
        "payment-methods/added/",
        payment_methods_views.payment_method_added,
        name="payment_method_added",
    ),
    path(
        "payment-methods/remove/",
        payment_methods_views.payment_method_remove,
        name="payment_method_remove",
    ),
    path(
        "payment-methods/default/",
        payment_methods_views.payment_method_default,
        name="payment_method_default",
    ),
    path(
        "payment-methods/choose/",
        payment_methods_views.payment_method_choose,
        name="payment_method_choose",
    ),
    # Contractors.
    path("dashboard/", connect_views.dashboard, name="dashboard"),
    path("dashboard/balance/", connect_views.balance_refresh, name="balance_refresh"),
    path("dashboard/payouts/refresh/", payout_views.payouts_refresh, name="payouts_refresh"),
    path("dashboard/payouts/now/", payout_views.payout_now, name="payout_now"),
    path("onboarding/", connect_views.onboarding, name="onboarding"),
    path("onboarding/start/", connect_views.onboarding_start, name="onboarding_start"),
    path("onboarding/refresh/", connect_views.onboarding_refresh, name="onboarding_refresh"),
    path("onboarding/return/", connect_views.onboarding_return, name="onboarding_return"),
]
