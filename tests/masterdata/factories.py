from decimal import Decimal

import factory

from masterdata.models import DeviceClass, Party, PartyKind, Product, Tracking, Warehouse
from masterdata.validators import gtin_check_digit


def make_uscc(seq: int, first: str = "9") -> str:
    from stdnum.cn import uscc

    body = f"{first}1310000{seq:09d}"[:17]
    return body + uscc.calc_check_digit(body)


def make_registration_number(device_class: int, seq: int) -> str:
    """A valid number for the class: a Zhejiang filing (I), a Shanghai (II) or national (III) certificate."""
    if device_class == DeviceClass.I:
        return f"浙温械备2016{seq % 10000:04d}号"
    prefix = "沪" if device_class == DeviceClass.II else "国"
    return f"{prefix}械注准2020{device_class}14{seq % 10000:04d}"


def make_gtin(seq: int) -> str:
    body = f"0690{seq:09d}"
    return body + gtin_check_digit(body)


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Party

    code = factory.Sequence(lambda n: f"C{n:05d}")
    name = factory.Sequence(lambda n: f"上海第{n}医院")
    name_en = factory.Sequence(lambda n: f"Shanghai Hospital No. {n}")
    kind = PartyKind.HOSPITAL
    uscc = factory.Sequence(lambda n: make_uscc(n))
    region_code = "310101"
    address = "上海市黄浦区中山东一路1号"
    contact_name = "王芳"
    contact_phone = "021-63210000"
    contact_email = "purchasing@example.com"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name_zh = factory.Sequence(lambda n: f"一次性使用输液器{n}")
    name_en = factory.Sequence(lambda n: f"Infusion set {n}")
    model_spec = "0.7mm"
    udi_di = factory.Sequence(make_gtin)
    device_class = DeviceClass.II
    catalogue_code = "14-02-01"
    registration_number = factory.LazyAttributeSequence(lambda o, n: make_registration_number(o.device_class, n))
    tracking = Tracking.LOT
    shelf_life_days = 730
    list_price = Decimal("12.5000")


class WarehouseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:02d}")
    name = factory.Sequence(lambda n: f"上海仓{n}")
    name_en = factory.Sequence(lambda n: f"Shanghai warehouse {n}")
    region_code = "310115"
    address = "上海市浦东新区张江路100号"
