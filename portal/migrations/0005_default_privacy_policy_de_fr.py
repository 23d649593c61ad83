"""The shipped default privacy policy (version 1) in German and French, published.

Same content as the English version 1; the operator replaces them by adding
version 2 in admin. The texts are portal/policy_texts/<language>.md: every
language with a file there is shipped on a fresh database.
"""

from django.db import migrations
from django.utils import timezone

from portal.policy_texts import default_policy, languages


def ship_translations(apps, schema_editor):
    PolicyVersion = apps.get_model("portal", "PolicyVersion")
    english = PolicyVersion.objects.filter(version=1, language="en").first()
    if english is None:
        return
    for language in languages():
        if language == "en" or PolicyVersion.objects.filter(version=1, language=language).exists():
            continue  # the operator's own texts are never touched
        policy = default_policy(language)
        PolicyVersion.objects.create(version=1, language=language, effective_date=english.effective_date,
                                     summary_of_changes=policy.summary, body=policy.body,
                                     published_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_alter_policyversion_summary_of_changes_and_more")]

    operations = [migrations.RunPython(ship_translations, migrations.RunPython.noop)]
