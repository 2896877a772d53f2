from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from erp.kernel.api_fields import VisiblePrimaryKeyRelatedField
from masterdata import selectors
from masterdata.models import Party, Product, Region, Warehouse


def _sales_rep_choices(*, user):
    return selectors.sales_rep_candidates()


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name_zh", "name_en", "abbreviation"]


class PartySerializer(serializers.ModelSerializer):
    """A party. Its sales rep is assigned as on the party form: only by users who may change every party
    (sales managers, back office), and only to an active user in the sales or sales-manager role."""

    province_code = serializers.CharField(source="province.code", read_only=True)
    sales_rep = VisiblePrimaryKeyRelatedField(
        queryset_for=_sales_rep_choices,
        allow_null=True,
        required=False,
        label=_("sales rep"),
        help_text=_(
            "User id of the assigned sales rep. Only sales managers and back office may change it, to an active "
            "user in the sales or sales-manager role; a sales rep creating a customer becomes its rep."
        ),
        error_messages={
            "does_not_exist": _("There is no active user in the sales or sales manager role with id {pk_value}.")
        },
    )

    class Meta:
        model = Party
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "kind",
            "uscc",
            "licence_number",
            "region_code",
            "province_code",
            "address",
            "contact_name",
            "contact_phone",
            "contact_email",
            "bed_count",
            "is_public",
            "is_military",
            "min_shelf_life_days",
            "min_shelf_life_pct",
            "is_active",
            "sales_rep",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "province_code", "created_at", "updated_at"]

    def validate_sales_rep(self, rep):
        user = self.context["request"].user
        if user.has_perm("masterdata.change_all_party"):
            return rep
        # A sales rep works on their own parties; reassigning them is a manager's decision.
        allowed = {self.instance.sales_rep_id} if self.instance is not None else {None, user.pk}
        if (rep.pk if rep else None) not in allowed:
            raise serializers.ValidationError(
                _("Only a sales manager can assign a party to a sales rep."), code="sales_rep_not_assignable"
            )
        return rep


class ProductSerializer(serializers.ModelSerializer):
    is_cold_chain = serializers.BooleanField(read_only=True)
    # The model normalises GTIN-8/12/13 to 14 digits: accept the short forms here.
    udi_di = serializers.CharField(max_length=14, required=False, allow_null=True, allow_blank=True)
    registrant = VisiblePrimaryKeyRelatedField(
        queryset_for=selectors.registrant_list_visible_to,
        allow_null=True,
        required=False,
        label=_("registrant"),
        help_text=_("Party id of the registrant: a manufacturer or supplier you may see."),
        error_messages={
            "does_not_exist": _("There is no manufacturer or supplier with id {pk_value} that you may see.")
        },
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name_zh",
            "name_en",
            "model_spec",
            "registrant",
            "udi_di",
            "device_class",
            "catalogue_code",
            "registration_number",
            "tracking",
            "storage_min_c",
            "storage_max_c",
            "is_cold_chain",
            "shelf_life_days",
            "unit",
            "list_price",
            "tax_rate",
            "is_implant",
            "class2_filing_exempt",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "is_cold_chain", "created_at", "updated_at"]


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "name_en", "region_code", "address", "is_cold_storage", "is_active"]
        read_only_fields = ["id"]
