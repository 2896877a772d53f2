"""Both languages ship (DESIGN.md): the compiled Chinese catalogues cover what the navigation and the
admin show about our apps and models, and the master-data strings integrators meet in the API."""

import pytest
from django.apps import apps
from django.utils import translation

from tests.conftest import OUR_APPS


def _chinese(text) -> str:
    with translation.override("zh-hans"):
        return str(text)


@pytest.mark.parametrize("label", sorted(OUR_APPS))
def test_every_app_name_is_translated(label):
    # given
    config = apps.get_app_config(label)

    # when
    chinese = _chinese(config.verbose_name)

    # then
    assert not chinese.isascii(), chinese


def test_channels_app_is_named_in_chinese():
    # then
    assert _chinese(apps.get_app_config("channels_mgmt").verbose_name) == "渠道"


def test_every_master_data_field_label_and_help_text_is_translated():
    # given
    from masterdata.models import Party, Product, Region, Warehouse

    fields = [
        field
        for model in (Party, Product, Region, Warehouse)
        for field in model._meta.get_fields()
        if hasattr(field, "verbose_name") and field.name != "id"
    ]

    # when (an acronym such as "SKU" is the same in Chinese)
    untranslated = [
        f"{field.model.__name__}.{field.name}: {text}"
        for field in fields
        for text in (field.verbose_name, getattr(field, "help_text", ""))
        if text and not str(text).isupper() and _chinese(text).isascii()
    ]

    # then
    assert untranslated == []


def test_party_licence_number_is_labelled_in_both_languages():
    # given
    from masterdata.models import Party

    field = Party._meta.get_field("licence_number")

    # then
    assert _chinese(field.verbose_name) == "许可证/备案凭证编号"
    assert "医疗机构执业许可证" in _chinese(field.help_text)
    with translation.override("en"):
        assert str(field.verbose_name) == "licence / filing number"
