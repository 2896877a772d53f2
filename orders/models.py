"""Sales orders and their lines. Hold is derived: an order is held while a blocking exception event
on it is open (kept in ``is_held`` by ``orders.services``, never set by a user)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from erp.kernel.messages import render_stored
from erp.kernel.money import line_net_amount, money


class OrderStatus(models.TextChoices):
    """The order's place in its lifecycle; the legal moves and who takes them: ``orders/lifecycle.py``."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    ALLOCATED = "allocated", _("Allocated")
    PARTIALLY_SHIPPED = "partially_shipped", _("Partially shipped")
    SHIPPED = "shipped", _("Shipped")
    DELIVERED = "delivered", _("Delivered")
    INVOICED = "invoiced", _("Invoiced")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses after which lines and prices are frozen (changes need a new document).
OPEN_STATUSES = (
    OrderStatus.DRAFT,
    OrderStatus.SUBMITTED,
    OrderStatus.APPROVED,
    OrderStatus.ALLOCATED,
    OrderStatus.PARTIALLY_SHIPPED,
)
EDITABLE_STATUSES = (OrderStatus.DRAFT, OrderStatus.SUBMITTED)


class PaymentTerms(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid")
    NET30 = "net30", _("30 days")
    NET60 = "net60", _("60 days")
    NET90 = "net90", _("90 days")
    NET180 = "net180", _("180 days")


class SalesOrder(models.Model):
    """A customer's order. Sales reps see and edit only their own orders."""

    ROW_SCOPED = True

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    customer = models.ForeignKey(
        "masterdata.Party", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders"
    )
    ship_to = models.ForeignKey(
        "masterdata.Party",
        verbose_name=_("ship-to party"),
        on_delete=models.PROTECT,
        related_name="ship_to_orders",
        null=True,
        blank=True,
        help_text=_("The end customer when a distributor orders for a named hospital."),
    )
    ship_to_address = models.CharField(_("ship-to address"), max_length=300, blank=True)
    warehouse = models.ForeignKey(
        "masterdata.Warehouse", verbose_name=_("warehouse"), on_delete=models.PROTECT, related_name="orders"
    )
    requested_delivery_date = models.DateField(_("requested delivery date"), null=True, blank=True)
    customer_po = models.CharField(_("customer PO number"), max_length=60, blank=True)
    contract_ref = models.CharField(_("contract reference"), max_length=60, blank=True)
    payment_terms = models.CharField(
        _("payment terms"), max_length=10, choices=PaymentTerms.choices, default=PaymentTerms.NET90
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(
        _("status"), max_length=20, choices=OrderStatus.choices, default=OrderStatus.DRAFT, db_index=True
    )
    is_held = models.BooleanField(_("held"), default=False, db_index=True, editable=False)
    hold_summary = models.CharField(_("hold reason"), max_length=300, blank=True, editable=False)
    # The hold reason as a message key with the events' numbers and both copies of their messages
    # (erp.kernel.messages), read in the reader's language; hold_summary keeps the Chinese text.
    hold_summary_text = models.JSONField(_("hold reason (message key)"), default=dict, blank=True, editable=False)
    net_amount = models.DecimalField(_("net amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    gross_amount = models.DecimalField(_("gross amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        on_delete=models.PROTECT,
        related_name="sales_orders",
        null=True,
        blank=True,
    )
    notes = models.TextField(_("notes"), blank=True)
    cancel_reason = models.CharField(_("cancellation reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, editable=False
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    # Hash of the sorted (product, quantity) pairs, kept by the services: finds likely duplicates with
    # one indexed query however many orders the customer has.
    lines_signature = models.CharField(max_length=40, blank=True, editable=False)

    # The exception events raised on this order (no column: lets lists prefetch the open ones).
    exception_events = GenericRelation(
        "exceptions_center.ExceptionEvent", content_type_field="source_type", object_id_field="source_id"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sales order")
        verbose_name_plural = _("sales orders")
        permissions = [
            ("view_all_salesorder", _("Can view every sales order")),
            ("change_all_salesorder", _("Can change every sales order")),
            ("approve_salesorder", _("Can approve sales orders")),
        ]
        indexes = [
            models.Index(fields=["customer", "-created_at"]),
            models.Index(fields=["sales_rep", "status"]),
            models.Index(fields=["customer", "lines_signature", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gross_amount=models.F("net_amount") + models.F("tax_amount")),
                name="%(app_label)s_%(class)s_gross_is_net_plus_tax",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def hold_reason(self) -> str:
        """Why the order is held, in the reader's language (the stored Chinese text for older rows)."""
        return render_stored(self.hold_summary_text, fallback=self.hold_summary)

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def delivery_party(self):
        """Who receives the goods: the ship-to party if named, else the customer."""
        return self.ship_to or self.customer

    @staticmethod
    def signature_of(pairs) -> str:
        """Stable hash of an order's (product id, quantity) pairs, whatever the line order."""
        import hashlib

        text = ";".join(f"{p}x{q}" for p, q in sorted((int(p), int(q)) for p, q in pairs))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest() if text else ""

    def recompute_totals(self, lines) -> None:
        """Set the order totals from its lines (whose own amounts are already computed)."""
        self.net_amount = sum((line.net_amount for line in lines), Decimal("0"))
        self.tax_amount = sum((line.tax_amount for line in lines), Decimal("0"))
        self.gross_amount = self.net_amount + self.tax_amount
        self.lines_signature = self.signature_of((line.product_id, line.quantity) for line in lines)


class SalesOrderLine(models.Model):
    """One product on an order, with its price, tax and optional lot / shelf-life requirements."""

    order = models.ForeignKey(SalesOrder, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(_("line"))
    product = models.ForeignKey(
        "masterdata.Product", verbose_name=_("product"), on_delete=models.PROTECT, related_name="order_lines"
    )
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    unit_price = models.DecimalField(
        _("unit price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    discount_pct = models.DecimalField(
        _("discount %"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    tax_rate = models.DecimalField(_("tax rate"), max_digits=5, decimal_places=4)
    net_amount = models.DecimalField(_("net amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    tax_amount = models.DecimalField(_("tax amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    gross_amount = models.DecimalField(_("gross amount"), max_digits=16, decimal_places=2, default=Decimal("0"))
    requested_lot = models.CharField(_("requested lot"), max_length=20, blank=True)
    min_shelf_life_days = models.PositiveIntegerField(
        _("minimum remaining shelf life (days)"),
        null=True,
        blank=True,
        help_text=_("Overrides the customer's minimum for this line."),
    )
    min_shelf_life_pct = models.PositiveSmallIntegerField(
        _("minimum remaining shelf life (percent of total)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("With or instead of days; overrides the customer's minimum for this line."),
    )
    # The agreed price when the order was submitted; a later difference needs approval (rule catalogue).
    submitted_unit_price = models.DecimalField(
        _("unit price at submission"), max_digits=14, decimal_places=4, null=True, blank=True, editable=False
    )
    submitted_discount_pct = models.DecimalField(
        _("discount % at submission"), max_digits=5, decimal_places=2, null=True, blank=True, editable=False
    )
    allocated_quantity = models.PositiveIntegerField(_("allocated"), default=0, editable=False)
    shipped_quantity = models.PositiveIntegerField(_("shipped"), default=0, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "line_no"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="%(app_label)s_%(class)s_unique_line_no"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="%(app_label)s_%(class)s_quantity_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(allocated_quantity__lte=models.F("quantity")),
                name="%(app_label)s_%(class)s_not_over_allocated",
            ),
            models.CheckConstraint(
                condition=models.Q(shipped_quantity__lte=models.F("quantity")),
                name="%(app_label)s_%(class)s_not_over_shipped",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.line_no}"

    @property
    def shortage(self) -> int:
        return self.quantity - self.allocated_quantity

    @property
    def price_changed_after_submit(self) -> bool:
        """The unit price or discount differs from what was agreed when the order was submitted."""
        if self.submitted_unit_price is None:
            return False
        return self.unit_price != self.submitted_unit_price or self.discount_pct != self.submitted_discount_pct

    def compute_amounts(self) -> None:
        """Net = quantity × unit price × (1 − discount); tax on net; amounts rounded to cents."""
        self.net_amount = line_net_amount(self.quantity, self.unit_price, self.discount_pct)
        self.tax_amount = money(self.net_amount * self.tax_rate)
        self.gross_amount = self.net_amount + self.tax_amount


class SalesOrderUserObjectPermission(UserObjectPermissionBase):
    """Object permissions on orders with a direct foreign key (fast row-level scoping)."""

    content_object = models.ForeignKey(SalesOrder, on_delete=models.CASCADE)


class SalesOrderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(SalesOrder, on_delete=models.CASCADE)
