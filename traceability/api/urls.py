from rest_framework.routers import DefaultRouter

from traceability.api import views

router = DefaultRouter(trailing_slash=True)
router.register("receipts", views.ReceiptViewSet)
router.register("lots", views.LotViewSet)
router.register("serials", views.SerialUnitViewSet)
router.register("allocations", views.AllocationViewSet)
router.register("shipments", views.ShipmentViewSet)
router.register("temperature-readings", views.TemperatureReadingViewSet)
router.register("recall-scopes", views.RecallScopeViewSet)
router.register("excursions", views.ExcursionViewSet)
router.register("stock-operations", views.StockOperationViewSet)
router.register("returns", views.CustomerReturnViewSet)
urlpatterns = router.urls
