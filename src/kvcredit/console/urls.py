"""The console's URLs, mounted at "/" by ``kvcredit.site.urls``."""

from __future__ import annotations

from django.urls import include, path

from kvcredit.console.views import (
    common,
    enterprise,
    fund,
    lending,
    lines,
    policies,
    rulebooks,
    setup,
)

app_name = "console"

urlpatterns = [
    path("", common.home, name="home"),
    path("evaluation/", enterprise.evaluation, name="evaluation"),
    path("data/", enterprise.submissions, name="submissions"),
    path("data/new/", enterprise.submit, name="submit"),
    path("data/<int:pk>/", enterprise.submission_detail, name="submission"),
    path("data/template.csv", enterprise.data_template, name="data_template"),
    path("enterprises/<int:pk>/", enterprise.enterprise_detail, name="enterprise"),
    path("credit-lines/", lines.credit_lines, name="credit_lines"),
    path("statistics/", lines.statistics, name="statistics"),
    path("programme/", common.programme_overview, name="programme"),
    path("setup/policies/", policies.policies, name="policies"),
    path("setup/policies/preview/", policies.preview, name="policy_preview"),
    path("setup/policies/publish/", policies.publish, name="policy_publish"),
    path("setup/policies/<int:pk>/", policies.policy_source, name="policy"),
    path("setup/rulebooks/", rulebooks.rulebooks, name="rulebooks"),
    path("setup/rulebooks/preview/", rulebooks.preview, name="rulebook_preview"),
    path("setup/rulebooks/publish/", rulebooks.publish, name="rulebook_publish"),
    path("setup/rulebooks/<int:pk>/", rulebooks.rulebook, name="rulebook"),
    path("setup/districts/", setup.districts, name="districts"),
    path("setup/banks/", setup.banks, name="banks"),
    path("setup/users/", setup.users, name="users"),
    path("setup/rates/", setup.rates, name="rates"),
    path("setup/products/", setup.products, name="products"),
    path("setup/products/<int:pk>/", setup.product, name="product"),
    path("setup/products/<int:pk>/active/", setup.product_active, name="product_active"),
    path("loans/", lending.loans, name="loans"),
    path("loans/apply/", lending.apply, name="apply"),
    path("loans/<int:pk>/", lending.loan_detail, name="loan"),
    path("loans/<int:pk>/deferrals/", lending.deferral_request, name="deferral_request"),
    path("deferrals/<int:pk>/<str:step>/", lending.deferral_decide, name="deferral_step"),
    path("applications/", lending.queue, name="queue"),
    path("applications/<int:pk>/<str:action>/", lending.decide, name="decide"),
    path("repayments/upload/", lending.upload_repayments, name="upload_repayments"),
    path("repayments/template.xlsx", lending.repayment_template, name="repayment_template"),
    path("fund/pools/", fund.pools, name="pools"),
    path("fund/claims/", fund.claim_list, name="claims"),
    path("fund/claims/<int:pk>/", fund.claim_detail, name="claim"),
    path("fund/claims/<int:pk>/<str:step>/", fund.claim_step, name="claim_step"),
    path("fund/fees/", fund.fees, name="fees"),
    path("fund/subsidies/", fund.subsidy_list, name="subsidies"),
    path("fund/subsidies/notice.xlsx", fund.subsidy_notice, name="subsidy_notice"),
    path("fund/breakers/", fund.breaker_list, name="breakers"),
    path("fund/breakers/<int:pk>/lift/", fund.breaker_lift, name="breaker_lift"),
    path("statistics/export/", lines.statistics_export, name="statistics_export"),
    path("assets/plotly.min.js", common.plotly_js, name="plotly_js"),
    path("i18n/", include("django.conf.urls.i18n")),
]
