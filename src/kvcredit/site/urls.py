from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from kvcredit.api.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", api.urls),
    path("", include("kvcredit.console.urls")),
]
if settings.KVCREDIT_EMAIL_RESET:  # password reset by e-mail: Django's own views, when mail is set
    from kvcredit.console.views.account import PasswordResetConfirm

    urlpatterns[2:2] = [
        path(
            "accounts/password_reset/",
            auth_views.PasswordResetView.as_view(),
            name="password_reset",
        ),
        path(
            "accounts/password_reset/done/",
            auth_views.PasswordResetDoneView.as_view(),
            name="password_reset_done",
        ),
        path(
            "accounts/reset/<uidb64>/<token>/",
            PasswordResetConfirm.as_view(),
            name="password_reset_confirm",
        ),
        path(
            "accounts/reset/done/",
            auth_views.PasswordResetCompleteView.as_view(),
            name="password_reset_complete",
        ),
    ]
if settings.KVCREDIT_BENCH_FLOOR:  # bench/api.py's floor endpoint; never in production
    from kvcredit.api.bench_floor import floor

    urlpatterns.insert(0, path("bench/floor/", floor.urls))
