"""Create the staff role groups.

The groups exist from the first migrate on; their permissions are granted by
``portal.roles.sync_roles`` on ``post_migrate``, because Django creates model
permissions only after all migrations have run (and so that models added
later join their role without a new migration). See docs/security.md.
"""

from django.db import migrations

ROLE_NAMES = ["Privacy officers", "Moderators", "Auditors", "Portal admins"]  # as in portal.roles


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("portal", "0005_default_privacy_policy_de_fr"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
    ]
