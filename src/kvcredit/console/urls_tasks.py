"""The console's task pages (accounts, audit, repayments, bridge loans, fees, imports,
commercial loans), added to ``console.urls``'s patterns (same namespace)."""

from __future__ import annotations

from django.urls import path

from kvcredit.console.views import account, application, audit, bridge, commercial, imports, repay

urlpatterns = [
    path("account/password/", account.PasswordChange.as_view(), name="password_change"),
    path("account/tokens/", account.tokens, name="tokens"),
    path("account/tokens/<int:pk>/revoke/", account.token_revoke, name="token_revoke"),
    path("setup/users/<int:pk>/", account.user_detail, name="user"),
    path("setup/users/<int:pk>/reset/", account.user_reset, name="user_reset"),
    path("setup/users/<int:pk>/<str:state>/", account.user_active, name="user_active"),
    path("audit/", audit.audit_log, name="audit_log"),
    path("applications/<int:pk>/", application.application_detail, name="application"),
    path("enterprises/import/", imports.import_enterprises, name="import_enterprises"),
    path("enterprises/import/errors.csv", imports.import_errors, name="import_errors"),
    path("loans/<int:pk>/repay/", repay.repay, name="repay"),
    path("loans/commercial/", commercial.commercial_loans, name="commercial_loans"),
    path("fund/bridge-loans/", bridge.bridge_loans, name="bridge_loans"),
    path("fund/bridge-loans/lend/", bridge.bridge_lend, name="bridge_lend"),
    path("fund/bridge-loans/<int:pk>/repay/", bridge.bridge_repay, name="bridge_repay"),
    path("fund/fees/charge/", bridge.fees_charge, name="fees_charge"),
    path(
        "loans/<int:pk>/repayments/<int:rid>/reverse/",
        repay.reverse_repayment,
        name="reverse_repayment",
    ),
]
