from rest_framework.routers import DefaultRouter

from masterdata.api import views

router = DefaultRouter(trailing_slash=True)
router.register("parties", views.PartyViewSet)
router.register("products", views.ProductViewSet)
router.register("warehouses", views.WarehouseViewSet)
router.register("regions", views.RegionViewSet)
urlpatterns = router.urls
