"""Create the "Law-enforcement liaisons" role group (DSA Art. 18 notifications).

Its permissions are granted by ``portal.roles.sync_roles`` after migrate, as for the
other roles (portal/migrations/0006_role_groups.py).
"""

from django.db import migrations

ROLE_NAMES = ["Law-enforcement liaisons"]  # as in portal.roles


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("abuse_app", "0003_dsa_statement_submissions_and_art18_notifications"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
