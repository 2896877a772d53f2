from rest_framework.routers import DefaultRouter

from exceptions_center.api.delegations import DelegationViewSet
from exceptions_center.api.events import ExceptionEventViewSet, NotificationViewSet
from exceptions_center.api.rules import RuleViewSet

router = DefaultRouter(trailing_slash=True)
router.register("rules", RuleViewSet)  # first: "rules/" must not be taken for an event id
router.register("events", ExceptionEventViewSet, basename="exceptionevent")
router.register("delegations", DelegationViewSet)
router.register("notifications", NotificationViewSet, basename="notification")
urlpatterns = router.urls
