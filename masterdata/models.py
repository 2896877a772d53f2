"""Master data: regions, parties (customers, suppliers, distributors, registrants), products, warehouses."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from erp.kernel.i18n import localised
from masterdata.validators import (
    normalise_gtin,
    normalise_registration_number,
    normalise_uscc,
    validate_catalogue_code,
    validate_gtin,
    validate_region_code,
    validate_registration_number,
    validate_uscc,
)

# Products whose whole label range sits at or below this are cold chain (refrigerated 2–8 °C, frozen).
COLD_CHAIN_MAX_C = Decimal("8")


class Region(models.Model):
    """A provincial-level administrative division (GB/T 2260), e.g. 310000 上海市 / Shanghai."""

    code = models.CharField(_("code"), max_length=6, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=50)
    name_en = models.CharField(_("English name"), max_length=80)
    abbreviation = models.CharField(
        _("abbreviation"), max_length=4, blank=True, help_text=_("Used in registration numbers, e.g. 沪.")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return localised(self.name_zh, self.name_en)


class PartyKind(models.TextChoices):
    HOSPITAL = "hospital", _("Hospital / medical institution")
    DISTRIBUTOR = "distributor", _("Distributor")
    RETAILER = "retailer", _("Retailer / clinic")
    SUPPLIER = "supplier", _("Supplier")
    MANUFACTURER = "manufacturer", _("Manufacturer / registrant")


class Party(models.Model):
    """A company or institution we deal with. Sales reps see only the parties assigned to them."""

    ROW_SCOPED = True

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=PartyKind.choices)
    uscc = models.CharField(
        _("unified social credit code"),
        max_length=18,
        blank=True,
        validators=[validate_uscc],
        help_text=_("18 characters; military institutions start with A1."),
    )
    licence_number = models.CharField(
        _("licence / filing number"),
        max_length=60,
        blank=True,
        db_index=True,
        help_text=_(
            "Distributors: distribution licence (经营许可证) or filing (经营备案凭证) number; hospitals: "
            "practising licence (医疗机构执业许可证) number; manufacturers: production licence or filing "
            "number. Printed on sales and incoming-inspection records."
        ),
    )
    region_code = models.CharField(_("region code"), max_length=6, validators=[validate_region_code])
    province = models.ForeignKey(
        Region, verbose_name=_("province"), on_delete=models.PROTECT, related_name="parties", editable=False
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    bed_count = models.PositiveIntegerField(_("bed count"), null=True, blank=True)
    is_public = models.BooleanField(_("public institution"), default=False)
    is_military = models.BooleanField(_("military institution"), default=False)
    min_shelf_life_days = models.PositiveIntegerField(
        _("minimum remaining shelf life (days)"),
        null=True,
        blank=True,
        help_text=_("Lots with less remaining shelf life at delivery are not allocated to this customer."),
    )
    min_shelf_life_pct = models.PositiveSmallIntegerField(
        _("minimum remaining shelf life (%)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    is_active = models.BooleanField(_("active"), default=True)
    sales_rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sales rep"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_parties",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("party")
        verbose_name_plural = _("parties")
        permissions = [
            ("view_all_party", _("Can view every party")),
            ("change_all_party", _("Can change every party")),
        ]
        indexes = [models.Index(fields=["kind", "is_active"]), models.Index(fields=["region_code"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(bed_count__isnull=True) | models.Q(kind="hospital"),
                name="%(app_label)s_%(class)s_beds_only_for_hospitals",
            ),
            models.UniqueConstraint(
                fields=["uscc"], condition=~models.Q(uscc=""), name="%(app_label)s_%(class)s_unique_uscc"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)

    @property
    def is_hospital(self) -> bool:
        return self.kind == PartyKind.HOSPITAL

    @property
    def practising_licence_revalidation_years(self) -> int | None:
        """Hospitals re-validate the practising licence yearly under 100 beds, else every 3 years."""
        if not self.is_hospital or self.bed_count is None:
            return None
        return 1 if self.bed_count < 100 else 3

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.uscc = normalise_uscc(self.uscc)
        errors: dict[str, list] = {}
        if self.kind != PartyKind.HOSPITAL and self.bed_count is not None:
            errors["bed_count"] = [_("Only hospitals have a bed count.")]
        if self.is_military and self.kind != PartyKind.HOSPITAL:
            errors["is_military"] = [_("Only hospitals can be marked military.")]
        if self.min_shelf_life_pct is not None and self.min_shelf_life_pct > 100:
            errors["min_shelf_life_pct"] = [_("A percentage cannot exceed 100.")]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        if self.region_code:
            self.province = Region.objects.get(code=f"{self.region_code[:2]}0000")
        super().save(*args, **kwargs)


class PartyUserObjectPermission(UserObjectPermissionBase):
    """Object permissions on parties with a direct foreign key (fast row-level scoping)."""

    content_object = models.ForeignKey(Party, on_delete=models.CASCADE)


class PartyGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Party, on_delete=models.CASCADE)


class DeviceClass(models.IntegerChoices):
    I = 1, _("Class I")  # noqa: E741 - the regulation's own name
    II = 2, _("Class II")
    III = 3, _("Class III")


class Tracking(models.TextChoices):
    LOT = "lot", _("Lot")
    SERIAL = "serial", _("Serial")
    BOTH = "both", _("Lot and serial")


class Product(models.Model):
    """A device we sell, with its UDI-DI, risk class, catalogue code and storage range."""

    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=200, db_index=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    model_spec = models.CharField(_("model / specification"), max_length=200, blank=True)
    registrant = models.ForeignKey(
        Party,
        verbose_name=_("registrant"),
        on_delete=models.PROTECT,
        related_name="registered_products",
        null=True,
        blank=True,
    )
    udi_di = models.CharField(
        _("UDI-DI (GTIN-14)"),
        max_length=14,
        null=True,
        blank=True,
        unique=True,
        help_text=_("GTIN-8, -12 or -13 are converted to 14 digits."),
    )
    device_class = models.PositiveSmallIntegerField(_("device class"), choices=DeviceClass.choices)
    catalogue_code = models.CharField(_("catalogue code"), max_length=20, validators=[validate_catalogue_code])
    registration_number = models.CharField(
        _("registration / filing number"),
        max_length=60,
        blank=True,
        db_index=True,
        help_text=_(
            "Class II/III: registration certificate, e.g. 国械注准20213130001; class I: filing number, e.g. "
            "浙温械备20140027号. Numbers from before 2014 are kept as written."
        ),
    )
    tracking = models.CharField(_("tracking"), max_length=10, choices=Tracking.choices, default=Tracking.LOT)
    storage_min_c = models.DecimalField(_("storage min °C"), max_digits=5, decimal_places=1, null=True, blank=True)
    storage_max_c = models.DecimalField(_("storage max °C"), max_digits=5, decimal_places=1, null=True, blank=True)
    shelf_life_days = models.PositiveIntegerField(_("shelf life (days)"), null=True, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="EA")
    list_price = models.DecimalField(
        _("list price"), max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal("0"))]
    )
    tax_rate = models.DecimalField(
        _("tax rate"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.13"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("0.13 for 13 % VAT."),
    )
    is_implant = models.BooleanField(_("implant"), default=False)
    class2_filing_exempt = models.BooleanField(_("exempt from class II filing"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["sku"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(storage_min_c__isnull=True)
                | models.Q(storage_max_c__isnull=True)
                | models.Q(storage_min_c__lte=models.F("storage_max_c")),
                name="%(app_label)s_%(class)s_storage_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_rate__lt=1), name="%(app_label)s_%(class)s_tax_rate_below_one"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localised(self.name_zh, self.name_en)

    @property
    def is_cold_chain(self) -> bool:
        """Cold chain when the label's upper storage limit is at most 8 °C (refrigerated or frozen)."""
        return self.storage_max_c is not None and self.storage_max_c <= COLD_CHAIN_MAX_C

    @property
    def is_serialised(self) -> bool:
        return self.tracking in (Tracking.SERIAL, Tracking.BOTH)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, list] = {}
        if self.udi_di:
            raw = self.udi_di.strip()
            try:
                validate_gtin(raw)
            except ValidationError as exc:
                errors["udi_di"] = exc.messages
            else:
                self.udi_di = normalise_gtin(raw)
        else:
            self.udi_di = None
        if (
            self.storage_min_c is not None
            and self.storage_max_c is not None
            and self.storage_min_c > self.storage_max_c
        ):
            errors["storage_max_c"] = [_("The upper storage limit must not be below the lower one.")]
        if self.tax_rate is not None and self.tax_rate >= 1:
            errors["tax_rate"] = [_("Enter the tax rate as a fraction, e.g. 0.13 for 13 %.")]
        self.registration_number = normalise_registration_number(self.registration_number)
        if self.registration_number and "registration_number" not in errors:
            try:
                validate_registration_number(self.registration_number, device_class=self.device_class)
            except ValidationError as exc:
                errors["registration_number"] = exc.error_list
        if self.class2_filing_exempt and self.device_class != DeviceClass.II:
            errors["class2_filing_exempt"] = [_("Only class II products can be exempt from class II filing.")]
        if errors:
            raise ValidationError(errors)


class Warehouse(models.Model):
    """A place we store stock; its address must be on the distribution licence to ship from it."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    region_code = models.CharField(_("region code"), max_length=6, validators=[validate_region_code])
    province = models.ForeignKey(
        Region, verbose_name=_("province"), on_delete=models.PROTECT, related_name="warehouses", editable=False
    )
    address = models.CharField(_("address"), max_length=300)
    is_cold_storage = models.BooleanField(_("cold storage capable"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouses")

    def __str__(self) -> str:
        return f"{self.code} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)

    def save(self, *args, **kwargs) -> None:
        if self.region_code:
            self.province = Region.objects.get(code=f"{self.region_code[:2]}0000")
        super().save(*args, **kwargs)
