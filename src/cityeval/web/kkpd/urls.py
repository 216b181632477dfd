from django.urls import path

from cityeval.web.kkpd import register_views, views

app_name = "kkpd"
_r = "r/<slug:region>/kkpd/"
urlpatterns = [
    path("kkpd/", views.national, name="national"),
    path("public/<slug:region>/kkpd/", views.public_page, name="public"),
    path(_r, views.dashboard, name="dashboard"),
    path(_r + "summary.pdf", views.summary_download, name="summary_pdf"),
    path(_r + "cards/", views.card_list, name="cards"),
    path(_r + "transactions/", views.transaction_list, name="transactions"),
    path(_r + "flags/", views.flag_list, name="flags"),
    path(_r + "flags/<uuid:flag>/status/", views.flag_status, name="flag_status"),
    path(_r + "import/", views.statement_upload, name="import"),
    path(_r + "spending/", views.spending_upload, name="spending"),
    path(_r + "rules/", views.rules_edit, name="rules"),
    path(_r + "banks/", register_views.bank_list, name="banks"),
    path(_r + "banks/<uuid:bank>/", register_views.bank_edit, name="bank_edit"),
    path(_r + "cards/new/", register_views.card_new, name="card_new"),
    path(_r + "cards/<uuid:card>/edit/", register_views.card_edit, name="card_edit"),
    path(_r + "merchants/", register_views.merchant_list, name="merchants"),
    path(_r + "merchants/import/", register_views.merchant_upload, name="merchant_import"),
    path(_r + "merchants/<int:merchant>/", register_views.merchant_edit, name="merchant_edit"),
    path(_r + "spending/add/", register_views.spending_entry, name="spending_entry"),
    path(_r + "settlements/", register_views.settlement_upload, name="settlements"),
    path(_r + "banks/<uuid:bank>/mapping/", views.bank_mapping, name="bank_mapping"),
    path(_r + "transactions/<uuid:transaction>/", views.transaction_detail, name="transaction"),
    path(_r + "transactions/<uuid:transaction>/receipts/", views.receipt_upload, name="receipt_upload"),
    path(_r + "transactions/<uuid:transaction>/correct/", views.transaction_correction, name="correct"),
    path(
        _r + "transactions/<uuid:transaction>/receipts/<uuid:receipt>/",
        views.receipt_download,
        name="receipt_download",
    ),
]
