from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("<int:pk>/", views.order_detail, name="order_detail"),
    path("<int:pk>/edit/", views.order_update, name="order_update"),
    path("<int:pk>/submit/", views.order_submit, name="order_submit"),
    path("<int:pk>/approve/", views.order_approve, name="order_approve"),
    path("<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
    path("<int:pk>/close/", views.order_close, name="order_close"),
    path("entry/parties/", views.customer_search, name="customer_search"),
    path("entry/parties/<int:pk>/", views.customer_pick, name="customer_pick"),
    path("entry/parties/clear/", views.customer_clear, name="customer_clear"),
    path("entry/products/", views.product_search, name="product_search"),
    path("entry/line/", views.line_row, name="line_row"),
    path("entry/totals/", views.order_totals, name="order_totals"),
]
