"""Ship a sensible default privacy policy (version 1, English), published.

The operator replaces it in admin by adding version 2; this one stays readable at
/privacy/v/1/. The text is ours; the Microsoft paragraph follows the Cognitive
Services Code of Conduct (say that Microsoft receives data, link its privacy
statement and its abuse reporting).
"""

import datetime

from django.db import migrations
from django.utils import timezone

DEFAULT_POLICY = """\
This policy explains what personal data {app_name} collects, what we do with it, who we share it with
— including Microsoft — and how you can use your rights. {app_name} is run by {operator_name}.
You can reach us at any time at {operator_contact}.

## Who is responsible

{operator_name} decides why and how your personal data is used in {app_name} and is responsible for it
(the "controller"). Write to {operator_contact} with any question about this policy or your data.

## What we collect

- **What you give us when you use {app_name}**: your account details (such as your e-mail address and
  user name) and the content you choose to use with our features — for example photos, voice recordings,
  videos or text.
- **What the features produce from it**: for example a face template used to recognise the same person
  again, a transcript of a recording, or labels describing an image. A face template is biometric data;
  we create one only with your explicit consent.
- **Technical data**: the date and time of your visits, your browser type and, for security, a
  shortened or hashed form of your IP address.
- **What you send us on this privacy portal**: the e-mail address and identifiers you enter in a
  privacy request, your consent choices (when and which notice you agreed to), and abuse reports with
  any evidence you attach. You do not need an account here.

## What we do with it

- Provide the features of {app_name} you ask for. For features that send your content to Microsoft's
  AI services we ask for your consent first, and we send only what that feature needs.
- Keep {app_name} secure, prevent misuse and handle abuse reports.
- Answer your privacy requests and keep a record that we did so, as the law requires.

We do not sell your personal data, and we do not use it for advertising.

## Microsoft Cognitive Services

{app_name} uses Microsoft Cognitive Services (Azure AI services, such as Face, Speech, Video Indexer and
Language). When you use a feature built on them, Microsoft receives certain data from {app_name} — the
images, voice recordings, video or text that the feature processes — in order to provide and improve its
products. Microsoft's handling of this data is described in the
[Microsoft Privacy Statement](https://privacy.microsoft.com/privacystatement).

We keep a record of every item {app_name} sends to Microsoft, so that when you ask us to delete your data,
or withdraw your consent, we can delete it at Microsoft too and check that it is gone.

To report abuse of Microsoft Cognitive Services to Microsoft directly, use
[Microsoft's abuse reporting page](https://msrc.microsoft.com/report/abuse). You can also report
abuse to us on this portal.

## Who else receives your data

- Companies that host and run {app_name} for us (for example our cloud provider), under contracts that
  allow them to use the data only on our instructions.
- Authorities, when the law requires us to — for example to report material that harms children.
- Nobody else, unless you ask us to or the law requires it.

Some of these providers, including Microsoft, may process data outside your country. Where that happens
we rely on the safeguards the law provides, such as standard contractual clauses.

## How long we keep it

We keep your content for as long as you use {app_name} and delete it when you delete it, close your
account or ask us to. Records of privacy requests are kept for up to two years after the request is
closed, then the personal details in them are removed. Evidence attached to abuse reports is kept while
the case or an appeal can still need it; evidence of harm to children is kept for at least one year,
as the law requires.

## Your rights, and how to use them here

- **Get a copy of your data**: [request a copy](/requests/new/access/). We confirm your e-mail address
  first, then prepare a download.
- **Delete your data**: [request deletion](/requests/new/deletion/). This includes what {app_name} sent to
  Microsoft. You get a receipt when it is done.
- **Withdraw or give consent**: [manage your consent](/consent/). Withdrawing consent does not affect
  what was done before, and we delete the data sent to Microsoft under that consent.
- **Correct your data, object to a use, or restrict it**: write to {operator_contact}.
- **Report abuse**: [report abuse](/report/), including anonymously where a child is at risk.
- **Complain**: you can complain to your data protection authority at any time.

We answer within one month (under the GDPR) or 45 days (under the CCPA). If we need longer, we tell
you why before the time runs out. Using your rights is free.

## Security

Only staff who need it can see your data, and every staff account is protected with two-step
verification. Links we send you by e-mail are personal and expire.

## Changes to this policy

When we change this policy we publish a new version with the date it takes effect. Earlier versions stay
readable on this page.
"""


def ship_default(apps, schema_editor):
    PolicyVersion = apps.get_model("portal", "PolicyVersion")
    if PolicyVersion.objects.exists():
        return
    PolicyVersion.objects.create(
        version=1, language="en", effective_date=datetime.date(2026, 1, 1),
        summary_of_changes="First version.", body=DEFAULT_POLICY, published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_policy_version")]

    operations = [migrations.RunPython(ship_default, migrations.RunPython.noop)]
