from django.db import migrations

# code, Chinese name, English name, member group (erp.roles.ROLES)
DEPARTMENTS = [
    ("sales", "销售部", "Sales", "sales"),
    ("sales_management", "销售管理", "Sales management", "sales_manager"),
    ("warehouse", "仓储部", "Warehouse", "warehouse"),
    ("logistics", "物流部", "Logistics", "logistics"),
    ("quality", "质量部", "Quality", "quality"),
    ("compliance", "合规部", "Compliance", "compliance"),
    ("finance", "财务部", "Finance", "finance"),
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Department = apps.get_model("exceptions_center", "Department")
    for code, zh, en, group_name in DEPARTMENTS:
        group, _ = Group.objects.get_or_create(name=group_name)
        Department.objects.update_or_create(code=code, defaults={"name_zh": zh, "name_en": en, "group": group})


class Migration(migrations.Migration):
    dependencies = [("exceptions_center", "0001_initial"), ("erp", "0002_role_groups")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
