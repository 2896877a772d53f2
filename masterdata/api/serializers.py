from rest_framework import serializers

from masterdata.models import Party, Product, Region, Warehouse


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name_zh", "name_en", "abbreviation"]


class PartySerializer(serializers.ModelSerializer):
    province_code = serializers.CharField(source="province.code", read_only=True)

    class Meta:
        model = Party
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "kind",
            "uscc",
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


class ProductSerializer(serializers.ModelSerializer):
    is_cold_chain = serializers.BooleanField(read_only=True)
    # The model normalises GTIN-8/12/13 to 14 digits: accept the short forms here.
    udi_di = serializers.CharField(max_length=14, required=False, allow_null=True, allow_blank=True)

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
