"""In the browser: a salesperson creates a product, sees a bad GTIN refused next to the field with
nothing saved, fixes it, lands on the product page, and switches the interface to English."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from masterdata.models import Product
from tests.masterdata.factories import make_gtin

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_product_create_with_bad_gtin_then_fix_then_switch_language(live_server, page, login, screenshot, make_user):
    # given: a sales rep logged in, in Chinese (the default language)
    make_user("sales", username="sales_rep", first_name="Li", last_name="Wei")
    login("sales_rep")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshot("01_home_zh")
    good = make_gtin(8080)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)

    # when: a product is entered with a GTIN whose check digit is wrong
    page.click("nav.main-nav >> text=产品")
    page.click("text=新建产品")
    page.fill("#id_sku", "E2E-STENT-01")
    page.fill("#id_name_zh", "药物洗脱冠状动脉支架系统")
    page.fill("#id_name_en", "Drug-eluting coronary stent system")
    page.fill("#id_model_spec", "3.0×18mm")
    page.fill("#id_udi_di", bad)
    page.select_option("#id_device_class", "3")
    page.fill("#id_catalogue_code", "13-07-02")
    page.select_option("#id_tracking", "serial")
    page.fill("#id_list_price", "7800")
    page.check("#id_is_implant")
    page.fill("#id_reason", "新产品上市")
    page.click("form.card button[type=submit]")

    # then: the error is shown next to the GTIN field, in Chinese, and nothing was saved
    error = page.locator("#id_udi_di_errors")
    expect(error).to_be_visible()
    expect(error).to_contain_text("GTIN 校验位错误")
    expect(page.locator(".field.has-error #id_udi_di")).to_have_value(bad)
    assert not Product.objects.filter(sku="E2E-STENT-01").exists()
    screenshot("02_product_bad_gtin_zh")

    # when: the GTIN is corrected (as the 13-digit code printed on the box) and saved
    page.fill("#id_udi_di", good[1:])
    page.click("form.card button[type=submit]")

    # then: the product page shows it, stored as GTIN-14, with the acting user and reason in its history
    page.wait_for_url(re.compile(r"/masterdata/products/\d+/$"))
    expect(page.locator("h1")).to_contain_text("E2E-STENT-01")
    expect(page.locator(".messages")).to_contain_text("已创建")
    product = Product.objects.get(sku="E2E-STENT-01")
    assert product.udi_di == good
    assert product.history.get().history_change_reason == "新产品上市"
    expect(page.locator("text=新产品上市")).to_be_visible()
    screenshot("03_product_detail_zh")

    # when: the user switches the language to English
    page.click(".lang-switch button[value=en]")

    # then: the same page, in English
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_contain_text("E2E-STENT-01 · Drug-eluting coronary stent system")
    expect(page.locator("text=Change history")).to_be_visible()
    expect(page.locator("nav.main-nav")).to_contain_text("Products")
    expect(page.locator(".badge-high")).to_have_text("Class III")
    assert "产品" not in page.locator("header").inner_text()
    screenshot("04_product_detail_en")


def test_phone_layout_collapses_navigation_and_stacks_tables(live_server, page, login, screenshot, make_user):
    # given
    make_user("sales_manager", username="phone_user")
    login("phone_user")
    page.set_viewport_size({"width": 390, "height": 844})

    # when
    page.goto(f"{live_server.url}/masterdata/warehouses/")

    # then: the navigation hides behind the menu button until opened
    nav = page.locator("nav.main-nav")
    expect(nav).to_be_hidden()
    page.click("[data-nav-toggle]")
    expect(nav).to_be_visible()
    screenshot("05_phone_nav_open")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390
