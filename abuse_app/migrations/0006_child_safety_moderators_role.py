"""Create the Child-safety moderators group (its permissions come from portal.roles.sync_roles)."""

from django.db import migrations

ROLE_NAMES = ["Child-safety moderators"]  # as in portal.roles


def create_group(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("abuse_app", "0005_cybertipline_report"),
    ]

    operations = [
        migrations.RunPython(create_group, migrations.RunPython.noop),
    ]
