from django.urls import path

from broadcasts.personal import receipts

urlpatterns = [
    path("<slug:slug>/<slug:kind>/", receipts.receipt_webhook, name="webhook-personal-receipt"),
]
