"""Ship a sensible default privacy policy (version 1, English), published.

The operator replaces it in admin by adding version 2; this one stays readable at
/privacy/v/1/. The text is ours; the Microsoft paragraph follows the Cognitive
Services Code of Conduct (say that Microsoft receives data, link its privacy
statement and its abuse reporting). The text is in portal/policy_texts/en.md.
"""

import datetime

from django.db import migrations
from django.utils import timezone

from portal.policy_texts import default_policy

def ship_default(apps, schema_editor):
    PolicyVersion = apps.get_model("portal", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    english = default_policy("en")
    PolicyVersion.objects.create(
        version=1, language="en", effective_date=datetime.date(2026, 1, 1),
        summary_of_changes=english.summary, body=english.body, published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_policy_version")]

    operations = [migrations.RunPython(ship_default, migrations.RunPython.noop)]
