"""Demo master data for ``manage.py seed_demo``: a realistic, deterministic data set in Chinese and English.

Scale 1 is a hand-written set that shows every master-data case: public, private and military hospitals
(one ``A1…`` USCC) with and without 100 beds, distributors, suppliers, registrants (each with the
licence or filing number their sales and inspection records print), 36 products across
classes I–III (refrigerated and frozen IVD reagents, serial-tracked implants, class II products exempt
from filing), warehouses in several provinces including cold stores, and customers assigned to the demo
sales reps. It is written through ``masterdata.services`` so history and the reps' object permissions
are recorded as in real use.

``--scale N`` (N > 1) adds ``100 × N`` generated parties and ``10 × N`` products with
``bulk_create_with_history`` in batches (history rows included) and grants the reps' object permissions
with bulk-created ``PartyUserObjectPermission`` rows: ``--scale 1000`` gives about 100k parties and 10k
products in a few minutes.

Every value comes from fixed tables or from ``DemoContext.rng`` (seeded per step), so two runs build the
same data.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from stdnum.cn import uscc as stdnum_uscc

from erp.management.commands.demo_users import ensure_demo_users
from masterdata.validators import gtin_check_digit

DEMO_REASON = "demo data"
BATCH_SIZE = 5000


@dataclass
class DemoContext:
    """What every seeding step receives: the scale, a seeded random source, shared results, output."""

    scale: int = 1
    seed: int = 2026
    write: Callable[[str], Any] = field(default=lambda text: sys.stdout.write(text + "\n"))
    # Results one step hands to the next, e.g. data["parties"] (code -> Party), data["users"].
    data: dict[str, Any] = field(default_factory=dict)

    def rng(self, name: str) -> random.Random:
        """A random source of its own for each step, so adding a step never changes another's data."""
        return random.Random(f"{self.seed}:{name}")


# --- code builders ----------------------------------------------------------------------------


def make_uscc(prefix: str, region_code: str, organisation: str) -> str:
    """A valid USCC: registration authority + type (``12`` public institution, ``52`` private non-profit,
    ``91`` company, ``A1`` military), six-digit region, nine-character organisation code, check char."""
    body = f"{prefix}{region_code}{organisation}"
    assert len(body) == 17, body
    return body + stdnum_uscc.calc_check_digit(body)


def make_registration_number(device_class: int, catalogue_code: str, province_abbreviation: str, serial: int) -> str:
    """A number of the right shape for the class (DOMAIN.md §1): class I a provincial filing
    (浙械备2016…号), class II a provincial certificate (沪械注准…), class III a national one (国械注准…);
    the two digits after the class are the catalogue (``40`` for IVD reagents, catalogue 6840)."""
    year = 2015 + serial % 10
    if device_class == 1:
        return f"{province_abbreviation}械备{year}{serial:04d}号"
    prefix = "国" if device_class == 3 else province_abbreviation
    catalogue = "40" if catalogue_code.startswith("6840") else catalogue_code[:2]
    return f"{prefix}械注准{year}{device_class}{catalogue}{serial % 10000:04d}"


def make_practising_licence_number(uscc: str, region_code: str, *, public: bool, hospital: bool) -> str:
    """A 医疗机构执业许可证 registration number: the nine-character organisation code (inside the USCC),
    the six-digit region, ownership (``11`` public, ``12`` private), the institution type (``A`` hospital,
    ``D`` clinic or health centre) and a four-digit sequence."""
    return f"{uscc[8:17]}{region_code}{'11' if public else '12'}{'A' if hospital else 'D'}1001"


def make_trade_licence_number(province_abbreviation: str, *, kind: str, serial: int) -> str:
    """A provincial number of the right kind: a production licence (生产许) for manufacturers, a
    distribution licence (经营许) for distributors and suppliers."""
    what = "生产许" if kind == "manufacturer" else "经营许"
    return f"{province_abbreviation}药监械{what}{2015 + serial % 10}{serial % 10000:04d}号"


def make_gtin13(company_prefix: str, item: int) -> str:
    """A GTIN-13 from a nine-digit GS1 China company prefix (690–699…) and a three-digit item reference."""
    body = f"{company_prefix}{item:03d}"
    return body + gtin_check_digit(body)


# --- the hand-written set (scale 1) -----------------------------------------------------------

# code, kind, name, English name, USCC type, region, beds, public, military, rep, address, contact, phone
PARTIES: list[tuple] = [
    # hospitals
    ("H-SH-001", "hospital", "上海市徐汇区中心医院", "Shanghai Xuhui Central Hospital", "12", "310104", 820,
     True, False, "sales1", "上海市徐汇区淮海中路966号", "王芳", "021-64370045"),
    ("H-SH-002", "hospital", "上海浦东仁康医院", "Shanghai Pudong Renkang Hospital", "52", "310115", 80,
     False, False, "sales1", "上海市浦东新区张杨路1528号", "李娜", "021-58301122"),
    ("H-ZJ-001", "hospital", "杭州市西湖区人民医院", "Hangzhou Xihu District People's Hospital", "12", "330106", 460,
     True, False, "sales1", "浙江省杭州市西湖区文三路77号", "陈静", "0571-88213456"),
    ("H-JS-001", "hospital", "南京市玄武医院", "Nanjing Xuanwu Hospital", "12", "320102", 350,
     True, False, "sales1", "江苏省南京市玄武区中山路1号", "周洋", "025-84561234"),
    ("H-GD-001", "hospital", "广州市天河区人民医院", "Guangzhou Tianhe District People's Hospital", "12", "440106",
     600, True, False, "sales2", "广东省广州市天河区天河路600号", "黄敏", "020-38862211"),
    ("H-GD-002", "hospital", "深圳南山康华医院", "Shenzhen Nanshan Kanghua Hospital", "52", "440305", 150,
     False, False, "sales2", "广东省深圳市南山区南海大道3026号", "林涛", "0755-26553300"),
    ("H-SC-001", "hospital", "成都市武侯区第二人民医院", "Chengdu Wuhou District Second People's Hospital", "12",
     "510107", 90, True, False, "sales2", "四川省成都市武侯区一环路南四段18号", "刘洋", "028-85512345"),
    ("H-BJ-001", "hospital", "北京市朝阳区第一医院", "Beijing Chaoyang First Hospital", "12", "110105", 1200,
     True, False, "", "北京市朝阳区工人体育场南路8号", "张伟", "010-85231000"),
    ("H-BJ-002", "hospital", "中国人民解放军联勤保障部队第九九〇医院",
     "PLA Joint Logistics Support Force Hospital No. 990", "A1", "110108", 1500, True, True, "",
     "北京市海淀区复兴路28号", "赵军", "010-66938000"),
    ("H-HB-001", "hospital", "武汉市武昌中心医院", "Wuhan Wuchang Central Hospital", "12", "420106", 700,
     True, False, "", "湖北省武汉市武昌区解放路238号", "吴刚", "027-88041911"),
    # retailers / clinics
    ("R-SH-001", "retailer", "上海益康大药房连锁有限公司", "Shanghai Yikang Pharmacy Chain Co., Ltd.", "91",
     "310106", None, False, False, "sales1", "上海市静安区南京西路1266号", "孙丽", "021-62883377"),
    ("R-GD-001", "retailer", "广州白云美齿口腔门诊部", "Guangzhou Baiyun Meichi Dental Clinic", "52", "440111",
     None, False, False, "sales2", "广东省广州市白云区机场路1962号", "何琳", "020-86001234"),
    ("R-SD-001", "retailer", "济南历下区泉城社区卫生服务中心", "Jinan Lixia Quancheng Community Health Centre",
     "12", "370102", None, True, False, "", "山东省济南市历下区泉城路180号", "郑华", "0531-86012345"),
    # distributors
    ("D-SH-001", "distributor", "上海华康医疗器械有限公司", "Shanghai Huakang Medical Devices Co., Ltd.", "91",
     "310115", None, False, False, "sales1", "上海市浦东新区外高桥富特北路211号", "钱磊", "021-50461234"),
    ("D-ZJ-001", "distributor", "浙江瑞杰医疗科技有限公司", "Zhejiang Ruijie Medical Technology Co., Ltd.", "91",
     "330108", None, False, False, "sales1", "浙江省杭州市滨江区江南大道3850号", "冯超", "0571-86678899"),
    ("D-GD-001", "distributor", "广东粤康医疗器械有限公司", "Guangdong Yuekang Medical Devices Co., Ltd.", "91",
     "440104", None, False, False, "sales2", "广东省广州市越秀区环市东路339号", "邓辉", "020-83331234"),
    ("D-SC-001", "distributor", "四川蜀健医疗器械有限公司", "Sichuan Shujian Medical Devices Co., Ltd.", "91",
     "510104", None, False, False, "sales2", "四川省成都市锦江区东大街100号", "唐兵", "028-86781234"),
    ("D-BJ-001", "distributor", "北京泰和医疗供应链管理有限公司", "Beijing Taihe Medical Supply Chain Co., Ltd.",
     "91", "110106", None, False, False, "", "北京市丰台区南四环西路188号", "许晨", "010-63721234"),
    ("D-HB-001", "distributor", "湖北楚康医药器械有限公司", "Hubei Chukang Medical Devices Co., Ltd.", "91",
     "420103", None, False, False, "", "湖北省武汉市江汉区建设大道568号", "曹阳", "027-85551234"),
    # suppliers
    ("S-JS-001", "supplier", "江苏康达医用耗材有限公司", "Jiangsu Kangda Medical Consumables Co., Ltd.", "91",
     "320506", None, False, False, "", "江苏省苏州市吴中区东吴北路98号", "蒋涛", "0512-65281234"),
    ("S-SH-001", "supplier", "上海冷链生物制品供应有限公司", "Shanghai Cold-Chain Bioproducts Supply Co., Ltd.",
     "91", "310112", None, False, False, "", "上海市闵行区莘庄工业区春东路508号", "沈洁", "021-54421234"),
    # manufacturers / registrants
    ("M-JS-001", "manufacturer", "苏州瑞康医疗科技股份有限公司", "Suzhou Ruikang Medical Technology Co., Ltd.", "91",
     "320505", None, False, False, "", "江苏省苏州市高新区科灵路78号", "韩冰", "0512-68081234"),
    ("M-SD-001", "manufacturer", "威海洁瑞医用制品有限公司", "Weihai Jierui Medical Products Co., Ltd.", "91",
     "371002", None, False, False, "", "山东省威海市环翠区张村镇昆明路18号", "于海", "0631-5621234"),
    ("M-GD-001", "manufacturer", "深圳迈康生物医疗电子股份有限公司",
     "Shenzhen Maikang Bio-Medical Electronics Co., Ltd.", "91", "440305", None, False, False, "",
     "广东省深圳市南山区高新技术产业园科技南十二路", "罗斌", "0755-81881234"),
    ("M-SH-001", "manufacturer", "上海心联医疗器械有限公司", "Shanghai Xinlian Medical Devices Co., Ltd.", "91",
     "310115", None, False, False, "", "上海市浦东新区张江路1601号", "顾明", "021-38951234"),
    ("M-ZJ-001", "manufacturer", "杭州安诊生物技术有限公司", "Hangzhou Anzhen Biotechnology Co., Ltd.", "91",
     "330108", None, False, False, "", "浙江省杭州市滨江区滨安路1180号", "叶青", "0571-87651234"),
    ("M-BJ-001", "manufacturer", "北京康骨医疗器械有限公司", "Beijing Kanggu Medical Devices Co., Ltd.", "91",
     "110115", None, False, False, "", "北京市大兴区经济技术开发区科创十三街18号", "彭亮", "010-67881234"),
]  # fmt: skip

# Licence / filing numbers as the documents print them: distributors and suppliers hold a distribution
# licence (经营许, class III) or only a filing (经营备, class II), issued by the city; manufacturers a
# provincial production licence (生产许). Hospitals and clinics get a practising-licence number built
# from their USCC (make_practising_licence_number).
LICENCE_NUMBERS = {
    "R-SH-001": "沪静药监械经营备20190045号",
    "D-SH-001": "沪浦药监械经营许20180123号",
    "D-ZJ-001": "浙杭药监械经营许20190056号",
    "D-GD-001": "粤穗食药监械经营许20160321号",
    "D-SC-001": "川蓉食药监械经营许20170045号",
    "D-BJ-001": "京丰食药监械经营许20150012号",
    "D-HB-001": "鄂汉药监械经营备20200017号",
    "S-JS-001": "苏苏药监械经营许20170088号",
    "S-SH-001": "沪闵药监械经营许20190211号",
    "M-JS-001": "苏食药监械生产许20150012号",
    "M-SD-001": "鲁食药监械生产许20160034号",
    "M-GD-001": "粤食药监械生产许20110045号",
    "M-SH-001": "沪食药监械生产许20140021号",
    "M-ZJ-001": "浙食药监械生产许20170056号",
    "M-BJ-001": "京食药监械生产许20130018号",
}

# Hospitals with a minimum remaining shelf life at delivery (days, %).
SHELF_LIFE_RULES = {"H-SH-001": (180, None), "H-BJ-002": (None, 60), "H-GD-001": (90, 50)}

# registrant code -> GS1 China company prefix (nine digits)
COMPANY_PREFIXES = {
    "M-JS-001": "693100452",
    "M-SD-001": "693700291",
    "M-GD-001": "694100726",
    "M-SH-001": "693200318",
    "M-ZJ-001": "693300514",
    "M-BJ-001": "691100833",
}

_ROOM = (None, Decimal("30"))
_COLD = (Decimal("2"), Decimal("8"))
_FROZEN = (Decimal("-25"), Decimal("-15"))

# sku, name, English name, model/spec, registrant, class, catalogue code, tracking, storage, shelf life
# (days), unit, list price, implant, exempt from class II filing
PRODUCTS: list[tuple] = [
    ("INF-001", "一次性使用输液器 带针", "Disposable infusion set with needle", "0.7×25TWLB", "M-JS-001", 3,
     "14-02-01", "lot", _ROOM, 1095, "套", "2.85", False, False),
    ("INF-002", "一次性使用精密过滤输液器", "Precision-filter infusion set", "5 μm 过滤", "M-JS-001", 3,
     "14-02-01", "lot", _ROOM, 1095, "套", "6.50", False, False),
    ("INF-003", "一次性使用静脉留置针", "IV cannula", "22G×25mm", "M-JS-001", 3, "14-01-03", "lot", _ROOM,
     1095, "支", "4.20", False, False),
    ("INF-004", "一次性使用输液泵用输液器", "Infusion pump administration set", "PVC-free 2.7 m", "M-JS-001", 3,
     "14-02-02", "lot", _ROOM, 1095, "套", "18.00", False, False),
    ("INJ-001", "一次性使用无菌注射器 带针 5ml", "Sterile syringe with needle, 5 ml", "5ml 0.7×32", "M-SD-001",
     3, "14-01-01", "lot", _ROOM, 1825, "支", "0.45", False, False),
    ("INJ-002", "一次性使用无菌注射器 20ml", "Sterile syringe, 20 ml", "20ml 螺口", "M-SD-001", 3, "14-01-01",
     "lot", _ROOM, 1825, "支", "0.95", False, False),
    ("INJ-003", "一次性使用胰岛素注射器", "Insulin syringe", "1ml U-100 0.33×13", "M-SD-001", 3, "14-01-01",
     "lot", _ROOM, 1825, "支", "0.80", False, False),
    ("INJ-004", "一次性使用无菌注射针", "Sterile hypodermic needle", "0.45×16 RWLB", "M-SD-001", 3, "14-01-02",
     "lot", _ROOM, 1825, "支", "0.12", False, False),
    ("NUR-001", "医用脱脂纱布块", "Absorbent gauze swab, sterile", "8cm×10cm-8P", "M-SD-001", 2, "14-10-02",
     "lot", _ROOM, 1825, "包", "3.20", False, False),
    ("NUR-002", "医用棉签", "Medical cotton swabs", "10cm×50支", "M-SD-001", 1, "14-10-04", "lot", _ROOM, 1095,
     "包", "1.50", False, False),
    ("NUR-003", "医用外科口罩", "Surgical mask", "17.5×9.5cm 50只/盒", "M-SD-001", 2, "14-14-02", "lot",
     _ROOM, 730, "盒", "25.00", False, False),
    ("NUR-004", "一次性使用医用橡胶检查手套", "Disposable examination gloves (nitrile)", "M 100只/盒",
     "M-SD-001", 2, "14-13-01", "lot", _ROOM, 1825, "盒", "38.00", False, False),
    ("NUR-005", "一次性使用无菌导尿包", "Sterile urinary catheterisation kit", "14Fr 双腔", "M-JS-001", 2,
     "14-05-01", "lot", _ROOM, 1095, "包", "16.80", False, False),
    ("NUR-006", "医用冷敷贴", "Medical cold compress patch", "10cm×12cm", "M-SD-001", 1, "14-10-09", "lot",
     _ROOM, 730, "盒", "12.00", False, False),
    ("SUR-001", "止血钳", "Haemostatic forceps", "直 14cm", "M-SD-001", 1, "02-06-01", "lot", (None, None),
     None, "把", "45.00", False, False),
    ("SUR-002", "手术剪", "Surgical scissors", "弯 16cm", "M-SD-001", 1, "02-04-01", "lot", (None, None), None,
     "把", "52.00", False, False),
    ("SUR-003", "一次性使用无菌手术刀片", "Sterile scalpel blade", "#11", "M-SD-001", 2, "02-01-01", "lot",
     _ROOM, 1825, "片", "0.90", False, False),
    ("MON-001", "多参数患者监护仪", "Multi-parameter patient monitor", "iM8", "M-GD-001", 2, "07-03-01",
     "serial", (Decimal("-20"), Decimal("55")), None, "台", "28500.00", False, False),
    ("MON-002", "便携式心电监护仪", "Portable ECG monitor", "iM3", "M-GD-001", 2, "07-03-01", "serial",
     (Decimal("-20"), Decimal("55")), None, "台", "12800.00", False, False),
    ("MON-003", "指夹式脉搏血氧仪", "Fingertip pulse oximeter", "PO-10", "M-GD-001", 2, "07-03-03", "serial",
     (Decimal("-20"), Decimal("55")), None, "台", "260.00", False, False),
    ("MON-004", "电子体温计", "Digital thermometer", "MT-101", "M-GD-001", 2, "07-03-04", "lot", _ROOM, 1825,
     "支", "35.00", False, True),
    ("MON-005", "电子血压计", "Electronic sphygmomanometer (upper arm)", "BP-30", "M-GD-001", 2, "07-03-02",
     "serial", (Decimal("-20"), Decimal("55")), None, "台", "298.00", False, True),
    ("DIA-001", "十二导心电图机", "12-lead electrocardiograph", "ECG-1200", "M-GD-001", 2, "07-04-01", "serial",
     (Decimal("-20"), Decimal("55")), None, "台", "36800.00", False, False),
    ("ULT-001", "彩色多普勒超声诊断系统", "Colour Doppler ultrasound system", "Resona 7", "M-GD-001", 2,
     "06-07-02", "serial", (Decimal("-20"), Decimal("55")), None, "台", "680000.00", False, False),
    ("CV-001", "药物洗脱冠状动脉支架系统", "Drug-eluting coronary stent system", "3.0×18mm", "M-SH-001", 3,
     "03-13-01", "serial", (None, Decimal("25")), 730, "套", "7800.00", True, False),
    ("CV-002", "冠状动脉球囊扩张导管", "PTCA balloon dilatation catheter", "2.5×15mm", "M-SH-001", 3,
     "03-13-04", "lot", (None, Decimal("25")), 1095, "根", "2950.00", False, False),
    ("CV-003", "机械心脏瓣膜", "Mechanical heart valve", "主动脉瓣 25mm", "M-SH-001", 3, "03-13-06",
     "serial", (Decimal("0"), Decimal("25")), 1825, "个", "28000.00", True, False),
    ("CV-004", "植入式心脏起搏器", "Implantable cardiac pacemaker", "SR-200 单腔", "M-SH-001", 3, "12-01-01",
     "serial", (Decimal("-10"), Decimal("45")), 730, "台", "36000.00", True, False),
    ("CV-005", "经皮冠状动脉介入导丝", "PTCA guidewire", "0.014in×190cm", "M-SH-001", 3, "03-13-03", "lot",
     (None, Decimal("25")), 1095, "根", "980.00", False, False),
    ("ORT-001", "金属锁定接骨板", "Locking bone plate", "6孔 3.5mm", "M-BJ-001", 3, "13-03-01", "both",
     (None, None), None, "块", "3200.00", True, False),
    ("ORT-002", "金属皮质骨螺钉", "Cortical bone screw", "Φ3.5×30mm", "M-BJ-001", 3, "13-03-02", "both",
     (None, None), None, "枚", "420.00", True, False),
    ("ORT-003", "人工髋关节假体", "Hip joint prosthesis", "生物型 股骨柄 10#", "M-BJ-001", 3, "13-04-02",
     "serial", (None, Decimal("30")), 1825, "套", "42000.00", True, False),
    ("IVD-001", "乙型肝炎病毒表面抗原检测试剂盒（化学发光法）", "HBsAg assay kit (chemiluminescence)",
     "100人份/盒", "M-ZJ-001", 3, "6840-01-00001", "lot", _COLD, 365, "盒", "1280.00", False, False),
    ("IVD-002", "心肌肌钙蛋白I测定试剂盒（化学发光法）", "Cardiac troponin I assay kit (chemiluminescence)",
     "50人份/盒", "M-ZJ-001", 2, "6840-02-00015", "lot", _COLD, 365, "盒", "960.00", False, False),
    ("IVD-003", "C反应蛋白测定试剂盒（免疫比浊法）", "C-reactive protein assay kit (immunoturbidimetry)",
     "2×50ml", "M-ZJ-001", 2, "6840-02-00042", "lot", _COLD, 540, "盒", "680.00", False, False),
    ("IVD-004", "人乳头瘤病毒核酸检测试剂盒（PCR-荧光探针法）", "HPV DNA assay kit (real-time PCR)",
     "48人份/盒", "M-ZJ-001", 3, "6840-01-00057", "lot", _FROZEN, 365, "盒", "2400.00", False, False),
    ("IVD-005", "新型冠状病毒抗原检测试剂盒（胶体金法）", "SARS-CoV-2 antigen test kit (colloidal gold)",
     "20人份/盒", "M-ZJ-001", 3, "6840-01-00023", "lot", (Decimal("2"), Decimal("30")), 540, "盒", "120.00",
     False, False),
    ("IVD-006", "血糖测试条", "Blood glucose test strips", "50条/瓶", "M-ZJ-001", 2, "6840-02-00031", "lot",
     (Decimal("4"), Decimal("30")), 540, "瓶", "85.00", False, False),
]  # fmt: skip

# code, name, English name, region, address, cold storage
WAREHOUSES: list[tuple] = [
    ("WH-SH01", "上海外高桥中心仓", "Shanghai Waigaoqiao central warehouse", "310115",
     "上海市浦东新区外高桥保税区富特北路211号", False),
    ("WH-SH02", "上海闵行冷链仓（2–8 °C / −20 °C）", "Shanghai Minhang cold store (2–8 °C / −20 °C)", "310112",
     "上海市闵行区莘庄工业区春东路508号", True),
    ("WH-BJ01", "北京大兴仓", "Beijing Daxing warehouse", "110115", "北京市大兴区经济技术开发区科创十三街18号",
     False),
    ("WH-GZ01", "广州白云仓", "Guangzhou Baiyun warehouse", "440111", "广东省广州市白云区太和镇大源北路88号",
     False),
    ("WH-CD01", "成都双流冷链仓", "Chengdu Shuangliu cold store", "510116", "四川省成都市双流区西航港大道2088号",
     True),
]  # fmt: skip


def seed(ctx: DemoContext) -> None:
    """The master-data step: the hand-written set, then the generated bulk for ``--scale`` above 1."""
    users = ctx.data.setdefault("users", ensure_demo_users())
    _seed_handwritten(ctx, users)
    if ctx.scale > 1:
        _seed_bulk(ctx, users)


def _seed_handwritten(ctx: DemoContext, users: dict) -> None:
    from masterdata import services
    from masterdata.models import Party, Product, Warehouse

    rng = ctx.rng("masterdata")
    actor = users["admin1"]
    parties: dict[str, Party] = {}
    with transaction.atomic():
        for row in PARTIES:
            code, kind, name, name_en, uscc_type, region, beds, public, military, rep, address, contact, phone = row
            party = Party.objects.filter(code=code).first()
            if party is None:
                organisation = f"{rng.randrange(10**8, 10**9)}"
                min_days, min_pct = SHELF_LIFE_RULES.get(code, (None, None))
                uscc = make_uscc(uscc_type, region, organisation)
                licence = LICENCE_NUMBERS.get(code) or make_practising_licence_number(
                    uscc, region, public=public, hospital=kind == "hospital"
                )
                party = services.party_create(
                    user=actor,
                    reason=DEMO_REASON,
                    code=code,
                    name=name,
                    name_en=name_en,
                    kind=kind,
                    uscc=uscc,
                    licence_number=licence,
                    region_code=region,
                    address=address,
                    contact_name=contact,
                    contact_phone=phone,
                    contact_email=f"{code.lower()}@demo.example.com",
                    bed_count=beds,
                    is_public=public,
                    is_military=military,
                    min_shelf_life_days=min_days,
                    min_shelf_life_pct=min_pct,
                    sales_rep=users[rep] if rep else None,
                )
            parties[code] = party
        for index, row in enumerate(PRODUCTS):
            sku, name_zh, name_en, spec, registrant, dclass, catalogue, tracking, storage, shelf, unit, price = row[:12]
            is_implant, exempt = row[12:]
            if Product.objects.filter(sku=sku).exists():
                continue
            gtin13 = make_gtin13(COMPANY_PREFIXES[registrant], index + 1)
            services.product_create(
                user=actor,
                reason=DEMO_REASON,
                sku=sku,
                name_zh=name_zh,
                name_en=name_en,
                model_spec=spec,
                registrant=parties[registrant],
                # Half the products are given as GTIN-13, as printed on the label: the service stores GTIN-14.
                udi_di=gtin13 if index % 2 else "0" + gtin13,
                device_class=dclass,
                catalogue_code=catalogue,
                registration_number=make_registration_number(
                    dclass, catalogue, parties[registrant].province.abbreviation, index + 1
                ),
                tracking=tracking,
                storage_min_c=storage[0],
                storage_max_c=storage[1],
                shelf_life_days=shelf,
                unit=unit,
                list_price=Decimal(price),
                is_implant=is_implant,
                class2_filing_exempt=exempt,
            )
        for code, name, name_en, region, address, cold in WAREHOUSES:
            if Warehouse.objects.filter(code=code).exists():
                continue
            services.warehouse_create(
                user=actor,
                reason=DEMO_REASON,
                code=code,
                name=name,
                name_en=name_en,
                region_code=region,
                address=address,
                is_cold_storage=cold,
            )
    ctx.data["parties"] = parties
    ctx.write(f"  master data: {len(PARTIES)} parties, {len(PRODUCTS)} products, {len(WAREHOUSES)} warehouses")


# --- the generated bulk (--scale N) -----------------------------------------------------------

# province code, city, districts (six-digit codes)
_CITIES = [
    ("110000", "北京", "Beijing", ["110101", "110102", "110105", "110106", "110108", "110115"]),
    ("310000", "上海", "Shanghai", ["310101", "310104", "310105", "310106", "310112", "310115"]),
    ("320000", "南京", "Nanjing", ["320102", "320104", "320105", "320106"]),
    ("330000", "杭州", "Hangzhou", ["330102", "330105", "330106", "330108"]),
    ("370000", "济南", "Jinan", ["370102", "370103", "370104", "370105"]),
    ("420000", "武汉", "Wuhan", ["420102", "420103", "420104", "420106"]),
    ("440000", "广州", "Guangzhou", ["440103", "440104", "440105", "440106", "440111"]),
    ("510000", "成都", "Chengdu", ["510104", "510105", "510106", "510107", "510116"]),
    ("500000", "重庆", "Chongqing", ["500103", "500104", "500105", "500106"]),
    ("610000", "西安", "Xi'an", ["610102", "610103", "610104", "610113"]),
]
# kind, code letter, share of parties, name patterns (zh, en)
_KINDS = [
    ("hospital", "H", 40, "{city}第{n}人民医院", "{city} People's Hospital No. {n}"),
    ("retailer", "R", 20, "{city}康健{n}号诊所", "{city} Kangjian Clinic No. {n}"),
    ("distributor", "D", 25, "{city}宏康医疗器械{n}有限公司", "{city} Hongkang Medical Devices {n} Co., Ltd."),
    ("supplier", "S", 10, "{city}联创医用耗材{n}有限公司", "{city} Lianchuang Medical Supplies {n} Co., Ltd."),
    ("manufacturer", "M", 5, "{city}博瑞医疗科技{n}有限公司", "{city} Borui Medical Technology {n} Co., Ltd."),
]
_PRODUCT_FAMILIES = [
    # name, English name, class, catalogue code, tracking, storage, shelf life, unit, price range, implant
    ("一次性使用输液器", "Infusion set", 3, "14-02-01", "lot", _ROOM, 1095, "套", (2, 9), False),
    ("一次性使用无菌注射器", "Sterile syringe", 3, "14-01-01", "lot", _ROOM, 1825, "支", (0, 2), False),
    ("医用外科口罩", "Surgical mask", 2, "14-14-02", "lot", _ROOM, 730, "盒", (15, 40), False),
    ("医用棉签", "Cotton swabs", 1, "14-10-04", "lot", _ROOM, 1095, "包", (1, 5), False),
    ("患者监护仪", "Patient monitor", 2, "07-03-01", "serial", (None, None), None, "台", (8000, 40000), False),
    ("冠状动脉支架系统", "Coronary stent system", 3, "03-13-01", "serial", (None, Decimal("25")), 730, "套",
     (5000, 12000), True),
    ("接骨板", "Bone plate", 3, "13-03-01", "both", (None, None), None, "块", (1500, 5000), True),
    ("检测试剂盒", "Assay kit", 2, "6840-02-00015", "lot", _COLD, 365, "盒", (300, 2000), False),
]  # fmt: skip


def _seed_bulk(ctx: DemoContext, users: dict) -> None:
    """Generated parties and products for benchmarks; customers are spread over the demo sales reps."""
    from django.contrib.auth.models import Permission
    from simple_history.utils import bulk_create_with_history

    from masterdata.models import Party, PartyUserObjectPermission, Product, Region

    target_parties = 100 * ctx.scale
    target_products = 10 * ctx.scale
    existing_parties = Party.objects.filter(code__startswith="X").count()
    existing_products = Product.objects.filter(sku__startswith="X-").count()
    provinces = dict(Region.objects.values_list("code", "id"))
    abbreviations = dict(Region.objects.values_list("code", "abbreviation"))
    actor = users["admin1"]
    reps = [users["sales1"], users["sales2"]]
    rep_perms = list(
        Permission.objects.filter(content_type__app_label="masterdata", codename__in=["view_party", "change_party"])
    )
    weights = [share for _kind, _letter, share, _zh, _en in _KINDS]

    def party(n: int) -> Party:
        rng = ctx.rng(f"party:{n}")  # per row, so a resumed run builds the same rows
        province, city, city_en, districts = _CITIES[n % len(_CITIES)]
        kind, letter, _share, zh, en = rng.choices(_KINDS, weights=weights)[0]
        region = districts[n % len(districts)]
        hospital = kind == "hospital"
        public = hospital and n % 3 != 0
        uscc_type = ("12" if public else "52") if kind in ("hospital", "retailer") else "91"
        is_customer = kind in ("hospital", "retailer", "distributor")
        # One customer in ten belongs to a demo sales rep (sales1 or sales2), the rest to nobody.
        rep = reps[(n // 10) % len(reps)] if is_customer and n % 10 == 0 else None
        # The organisation part starts with B, so it never meets the hand-written codes (digits only).
        uscc = make_uscc(uscc_type, region, f"B{n:08d}")
        if kind in ("hospital", "retailer"):
            licence = make_practising_licence_number(uscc, region, public=public, hospital=hospital)
        else:
            licence = make_trade_licence_number(abbreviations[province], kind=kind, serial=n)
        return Party(
            code=f"X{letter}{n:07d}",
            name=zh.format(city=city, n=n),
            name_en=en.format(city=city_en, n=n),
            kind=kind,
            uscc=uscc,
            licence_number=licence,
            region_code=region,
            province_id=provinces[province],
            address=f"{city}市{n % 300 + 1}号",
            contact_name=rng.choice(["王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]),
            contact_phone=f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
            contact_email=f"x{n}@demo.example.com",
            bed_count=rng.choice([60, 90, 120, 300, 500, 800, 1200]) if hospital else None,
            is_public=public,
            sales_rep=rep,
        )

    made = 0
    for start in range(existing_parties, target_parties, BATCH_SIZE):
        batch = [party(n) for n in range(start + 1, min(start + BATCH_SIZE, target_parties) + 1)]
        with transaction.atomic():
            created = bulk_create_with_history(
                batch, Party, batch_size=BATCH_SIZE, default_user=actor, default_change_reason=DEMO_REASON
            )
            # The services grant reps object permissions one by one; in bulk, write the rows directly.
            PartyUserObjectPermission.objects.bulk_create(
                [
                    PartyUserObjectPermission(user=p.sales_rep, permission=perm, content_object=p)
                    for p in created
                    if p.sales_rep is not None
                    for perm in rep_perms
                ],
                batch_size=BATCH_SIZE,
            )
        made += len(batch)
        ctx.write(f"  parties: {start + len(batch)} / {target_parties}")

    registrants = list(
        Party.objects.filter(kind="manufacturer").values_list("id", "province__abbreviation").order_by("id")
    )

    def product(n: int) -> Product:
        rng = ctx.rng(f"product:{n}")
        name, name_en, dclass, catalogue, tracking, storage, shelf, unit, prices, implant = _PRODUCT_FAMILIES[
            n % len(_PRODUCT_FAMILIES)
        ]
        body = f"6980{n:08d}"  # a company prefix no hand-written product uses
        return Product(
            sku=f"X-{n:07d}",
            name_zh=f"{name}（型号{n}）",
            name_en=f"{name_en} (model {n})",
            model_spec=f"M{n}",
            registrant_id=registrants[n % len(registrants)][0],
            udi_di="0" + body + gtin_check_digit(body),
            device_class=dclass,
            catalogue_code=catalogue,
            registration_number=make_registration_number(
                dclass, catalogue, registrants[n % len(registrants)][1], 1000 + n % 9000
            ),
            tracking=tracking,
            storage_min_c=storage[0],
            storage_max_c=storage[1],
            shelf_life_days=shelf,
            unit=unit,
            list_price=Decimal(rng.randrange(prices[0] * 100, prices[1] * 100 + 1)) / 100,
            is_implant=implant,
        )

    for start in range(existing_products, target_products, BATCH_SIZE):
        products = [product(n) for n in range(start + 1, min(start + BATCH_SIZE, target_products) + 1)]
        with transaction.atomic():
            bulk_create_with_history(
                products, Product, batch_size=BATCH_SIZE, default_user=actor, default_change_reason=DEMO_REASON
            )
        ctx.write(f"  products: {start + len(products)} / {target_products}")
    with connection.cursor() as cursor:
        # Fresh statistics, so the planner uses the indexes at once (autovacuum would catch up later).
        for table in ("masterdata_party", "masterdata_partyuserobjectpermission", "masterdata_product"):
            cursor.execute(f"ANALYZE {table}")
    ctx.write(f"  generated: {made} parties, {max(target_products - existing_products, 0)} products")
