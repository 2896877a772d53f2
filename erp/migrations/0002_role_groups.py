from django.db import migrations

ROLES = ["sales", "sales_manager", "warehouse", "logistics", "quality", "compliance", "finance", "auditor", "integrator", "admin"]


def create_groups(apps, schema_editor):
    # Permissions are synced after every migrate by erp.roles.sync_role_permissions, since later
    # apps add models; the groups themselves exist from the first migrate.
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("erp", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
