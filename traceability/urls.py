from django.urls import path

from traceability import views

app_name = "traceability"
urlpatterns = [
    path("", views.receipt_list, name="receipt_list"),
    path("receipts/new/", views.receipt_new, name="receipt_new"),
    path("receipts/<int:pk>/", views.receipt_detail, name="receipt_detail"),
    path("receipts/<int:pk>/scan/", views.receipt_scan_view, name="receipt_scan"),
    path("receipts/<int:pk>/complete/", views.receipt_complete_view, name="receipt_complete"),
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("lots/<int:pk>/trace.csv", views.lot_trace_csv, name="lot_trace_csv"),
    path("lots/<int:pk>/release/", views.lot_release_view, name="lot_release"),
    path("orders/<int:order_pk>/fulfil/", views.order_fulfil, name="order_fulfil"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment_detail"),
    path("excursions/<int:pk>/acknowledge/", views.excursion_acknowledge_view, name="excursion_acknowledge"),
]
