from rest_framework.routers import SimpleRouter

from orders.api import views

router = SimpleRouter(trailing_slash=True)
router.register("", views.OrderViewSet, basename="order")
urlpatterns = router.urls
