from django.urls import re_path

from accounts.api import social, views
from core.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    re_path(r"^auth/signup/?$", views.SignupView.as_view(), name="auth-signup"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^auth/me/?$", views.MeView.as_view(), name="auth-me"),
    re_path(r"^auth/password/?$", views.PasswordChangeView.as_view(), name="auth-password"),
    re_path(r"^auth/password/reset/?$", views.PasswordResetView.as_view(), name="auth-password-reset"),
    re_path(
        r"^auth/password/reset/confirm/?$", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"
    ),
    re_path(r"^auth/(?P<provider>google|facebook)/?$", social.SocialLoginStartView.as_view(), name="auth-social"),
    re_path(r"^auth/social/exchange/?$", social.SocialExchangeView.as_view(), name="auth-social-exchange"),
    *router.urls,
]
