"""The shipped default privacy policy (version 1) in German and French, published.

Same content as the English version 1; the operator replaces all three by adding
version 2 in admin.
"""

from django.db import migrations
from django.utils import timezone

POLICY_DE = """\
Diese Erklärung beschreibt, welche personenbezogenen Daten {app_name} erhebt, was wir damit tun, an wen wir
sie weitergeben – auch an Microsoft – und wie Sie Ihre Rechte ausüben können. {app_name} wird von
{operator_name} betrieben. Sie erreichen uns jederzeit unter {operator_contact}.

## Wer verantwortlich ist

{operator_name} entscheidet, wofür und wie Ihre personenbezogenen Daten in {app_name} verwendet werden, und ist
dafür verantwortlich (der „Verantwortliche“). Schreiben Sie an {operator_contact}, wenn Sie Fragen zu dieser
Erklärung oder zu Ihren Daten haben.

## Was wir erheben

- **Was Sie uns bei der Nutzung von {app_name} geben**: Ihre Kontodaten (etwa E-Mail-Adresse und
  Benutzername) und die Inhalte, die Sie mit unseren Funktionen verwenden – zum Beispiel Fotos,
  Sprachaufnahmen, Videos oder Texte.
- **Was die Funktionen daraus erzeugen**: zum Beispiel ein Gesichtsmerkmal-Profil, mit dem dieselbe Person
  wiedererkannt wird, eine Abschrift einer Aufnahme oder Schlagwörter zu einem Bild. Ein
  Gesichtsmerkmal-Profil ist ein biometrisches Datum; wir erstellen es nur mit Ihrer ausdrücklichen
  Einwilligung.
- **Technische Daten**: Datum und Uhrzeit Ihrer Besuche, Ihr Browsertyp und, zur Sicherheit, eine gekürzte
  oder gehashte Form Ihrer IP-Adresse.
- **Was Sie uns über dieses Datenschutzportal senden**: die E-Mail-Adresse und Kennungen, die Sie in einer
  Datenschutzanfrage angeben, Ihre Einwilligungen (wann und welchem Hinweistext Sie zugestimmt haben) sowie
  Meldungen von Missbrauch mit allen angehängten Belegen. Ein Konto brauchen Sie hier nicht.

## Was wir damit tun

- Die Funktionen von {app_name} bereitstellen, die Sie nutzen möchten. Bevor eine Funktion Ihre Inhalte an
  die KI-Dienste von Microsoft sendet, bitten wir um Ihre Einwilligung, und wir senden nur, was diese Funktion
  braucht.
- {app_name} sicher halten, Missbrauch verhindern und Missbrauchsmeldungen bearbeiten.
- Ihre Datenschutzanfragen beantworten und, wie gesetzlich vorgeschrieben, festhalten, dass wir das getan
  haben.

Wir verkaufen Ihre personenbezogenen Daten nicht und nutzen sie nicht für Werbung.

## Microsoft Cognitive Services

{app_name} nutzt Microsoft Cognitive Services (Azure-KI-Dienste wie Face, Speech, Video Indexer und Language).
Wenn Sie eine darauf aufbauende Funktion verwenden, erhält Microsoft bestimmte Daten von {app_name} – die
Bilder, Sprachaufnahmen, Videos oder Texte, die die Funktion verarbeitet –, um seine Produkte bereitzustellen
und zu verbessern. Wie Microsoft mit diesen Daten umgeht, steht in der
[Datenschutzerklärung von Microsoft](https://privacy.microsoft.com/privacystatement).

Wir halten jedes Element fest, das {app_name} an Microsoft sendet. Wenn Sie uns bitten, Ihre Daten zu löschen,
oder Ihre Einwilligung widerrufen, können wir sie daher auch bei Microsoft löschen und prüfen, dass sie
entfernt sind.

Um Missbrauch von Microsoft Cognitive Services direkt bei Microsoft zu melden, nutzen Sie
[die Meldeseite von Microsoft](https://msrc.microsoft.com/report/abuse). Sie können Missbrauch auch uns
über dieses Portal melden.

## Wer Ihre Daten sonst erhält

- Unternehmen, die {app_name} für uns hosten und betreiben (zum Beispiel unser Cloud-Anbieter), auf Grundlage
  von Verträgen, nach denen sie die Daten nur nach unseren Weisungen verwenden dürfen.
- Behörden, wenn das Gesetz es verlangt – zum Beispiel bei Material, das Kindern schadet.
- Sonst niemand, es sei denn, Sie bitten uns darum oder das Gesetz verlangt es.

Einige dieser Anbieter, darunter Microsoft, verarbeiten Daten möglicherweise außerhalb Ihres Landes. In diesem
Fall stützen wir uns auf die gesetzlich vorgesehenen Garantien, etwa Standardvertragsklauseln.

## Wie lange wir Daten aufbewahren

Ihre Inhalte bewahren wir auf, solange Sie {app_name} nutzen, und löschen sie, wenn Sie sie löschen, Ihr
Konto schließen oder uns darum bitten. Unterlagen zu Datenschutzanfragen bewahren wir bis zu zwei Jahre nach
Abschluss der Anfrage auf; danach entfernen wir die personenbezogenen Angaben darin. Belege zu
Missbrauchsmeldungen bewahren wir auf, solange der Fall oder ein Widerspruch sie noch benötigen kann; Belege
für Schaden an Kindern bewahren wir, wie gesetzlich vorgeschrieben, mindestens ein Jahr auf.

## Ihre Rechte und wie Sie sie hier ausüben

- **Eine Kopie Ihrer Daten erhalten**: [Kopie anfordern](/requests/new/access/). Wir bestätigen zuerst Ihre
  E-Mail-Adresse und stellen dann einen Download bereit.
- **Ihre Daten löschen lassen**: [Löschung beantragen](/requests/new/deletion/). Das schließt ein, was
  {app_name} an Microsoft gesendet hat. Wenn alles erledigt ist, erhalten Sie eine Bestätigung.
- **Einwilligung erteilen oder widerrufen**: [Einwilligungen verwalten](/consent/). Ein Widerruf berührt
  nicht, was vorher geschehen ist, und wir löschen die Daten, die mit dieser Einwilligung an Microsoft gesendet
  wurden.
- **Daten berichtigen, einer Nutzung widersprechen oder sie einschränken**: schreiben Sie an
  {operator_contact}.
- **Missbrauch melden**: [Missbrauch melden](/report/), auch anonym, wenn ein Kind in Gefahr ist.
- **Sich beschweren**: Sie können sich jederzeit bei Ihrer Datenschutzaufsichtsbehörde beschweren.

Wir antworten innerhalb eines Monats (nach der DSGVO) bzw. innerhalb von 45 Tagen (nach dem CCPA). Brauchen
wir länger, sagen wir Ihnen vor Ablauf der Frist, warum. Die Ausübung Ihrer Rechte ist kostenlos.

## Sicherheit

Nur Mitarbeitende, die es brauchen, können Ihre Daten sehen, und jedes Mitarbeiterkonto ist mit einer
Zwei-Faktor-Anmeldung geschützt. Links, die wir Ihnen per E-Mail senden, sind persönlich und laufen ab.

## Änderungen dieser Erklärung

Wenn wir diese Erklärung ändern, veröffentlichen wir eine neue Fassung mit dem Datum, ab dem sie gilt.
Frühere Fassungen bleiben auf dieser Seite lesbar.
"""

POLICY_FR = """\
Cette politique explique quelles données personnelles {app_name} collecte, ce que nous en faisons, avec qui
nous les partageons – y compris Microsoft – et comment exercer vos droits. {app_name} est exploité par
{operator_name}. Vous pouvez nous écrire à tout moment à {operator_contact}.

## Qui est responsable

{operator_name} décide pourquoi et comment vos données personnelles sont utilisées dans {app_name} et en est
responsable (le « responsable du traitement »). Écrivez à {operator_contact} pour toute question sur cette
politique ou sur vos données.

## Ce que nous collectons

- **Ce que vous nous confiez en utilisant {app_name}** : les données de votre compte (par exemple votre
  adresse e-mail et votre nom d’utilisateur) et les contenus que vous choisissez d’utiliser avec nos
  fonctionnalités – photos, enregistrements vocaux, vidéos ou textes.
- **Ce que les fonctionnalités en tirent** : par exemple un modèle de visage servant à reconnaître la même
  personne, la transcription d’un enregistrement ou des mots-clés décrivant une image. Un modèle de visage est
  une donnée biométrique ; nous n’en créons qu’avec votre consentement explicite.
- **Des données techniques** : la date et l’heure de vos visites, le type de votre navigateur et, pour la
  sécurité, une forme raccourcie ou hachée de votre adresse IP.
- **Ce que vous nous envoyez sur ce portail** : l’adresse e-mail et les identifiants indiqués dans une demande
  relative à vos données, vos choix de consentement (quand et à quelle information vous avez consenti) et les
  signalements d’abus avec les preuves jointes. Aucun compte n’est nécessaire ici.

## Ce que nous en faisons

- Fournir les fonctionnalités de {app_name} que vous demandez. Avant qu’une fonctionnalité envoie vos contenus
  aux services d’IA de Microsoft, nous vous demandons votre consentement, et nous n’envoyons que ce dont elle a
  besoin.
- Assurer la sécurité de {app_name}, prévenir les abus et traiter les signalements.
- Répondre à vos demandes et garder la trace de notre réponse, comme la loi l’exige.

Nous ne vendons pas vos données personnelles et ne les utilisons pas à des fins publicitaires.

## Microsoft Cognitive Services

{app_name} utilise Microsoft Cognitive Services (les services d’IA Azure, comme Face, Speech, Video Indexer et
Language). Lorsque vous utilisez une fonctionnalité qui s’appuie sur eux, Microsoft reçoit certaines données de
{app_name} – les images, enregistrements vocaux, vidéos ou textes que la fonctionnalité traite – afin de
fournir et d’améliorer ses produits. La manière dont Microsoft traite ces données est décrite dans la
[déclaration de confidentialité de Microsoft](https://privacy.microsoft.com/privacystatement).

Nous enregistrons chaque élément que {app_name} envoie à Microsoft : lorsque vous nous demandez de supprimer
vos données ou retirez votre consentement, nous pouvons ainsi les supprimer aussi chez Microsoft et vérifier
qu’elles ont disparu.

Pour signaler directement à Microsoft un abus de Microsoft Cognitive Services, utilisez
[la page de signalement de Microsoft](https://msrc.microsoft.com/report/abuse). Vous pouvez aussi nous
signaler un abus sur ce portail.

## Qui d’autre reçoit vos données

- Les entreprises qui hébergent et font fonctionner {app_name} pour nous (par exemple notre fournisseur de
  cloud), en vertu de contrats qui ne les autorisent à utiliser les données que sur nos instructions.
- Les autorités, lorsque la loi nous y oblige – par exemple pour signaler des contenus qui portent atteinte à
  des enfants.
- Personne d’autre, sauf si vous nous le demandez ou si la loi l’exige.

Certains de ces prestataires, dont Microsoft, peuvent traiter des données hors de votre pays. Dans ce cas, nous
nous appuyons sur les garanties prévues par la loi, comme les clauses contractuelles types.

## Combien de temps nous les conservons

Nous conservons vos contenus tant que vous utilisez {app_name} et les supprimons lorsque vous les supprimez,
fermez votre compte ou nous le demandez. Les dossiers des demandes relatives aux données sont conservés au plus
deux ans après leur clôture, puis les informations personnelles qu’ils contiennent sont effacées. Les preuves
jointes aux signalements sont conservées tant que le dossier ou un recours peut encore en avoir besoin ; les
preuves d’atteintes à des enfants sont conservées au moins un an, comme la loi l’exige.

## Vos droits, et comment les exercer ici

- **Obtenir une copie de vos données** : [demander une copie](/requests/new/access/). Nous confirmons d’abord
  votre adresse e-mail, puis préparons un téléchargement.
- **Faire supprimer vos données** : [demander la suppression](/requests/new/deletion/). Cela inclut ce que
  {app_name} a envoyé à Microsoft. Vous recevez un récépissé une fois la suppression terminée.
- **Donner ou retirer votre consentement** : [gérer vos consentements](/consent/). Le retrait ne remet pas en
  cause ce qui a été fait auparavant, et nous supprimons les données envoyées à Microsoft sur la base de ce
  consentement.
- **Rectifier vos données, vous opposer à un usage ou le limiter** : écrivez à {operator_contact}.
- **Signaler un abus** : [signaler un abus](/report/), y compris anonymement lorsqu’un enfant est en danger.
- **Porter plainte** : vous pouvez à tout moment saisir votre autorité de protection des données.

Nous répondons dans un délai d’un mois (selon le RGPD) ou de 45 jours (selon le CCPA). S’il nous faut plus de
temps, nous vous expliquons pourquoi avant l’échéance. L’exercice de vos droits est gratuit.

## Sécurité

Seules les personnes de notre équipe qui en ont besoin peuvent voir vos données, et chaque compte du personnel
est protégé par une vérification en deux étapes. Les liens que nous vous envoyons par e-mail sont personnels et
expirent.

## Modifications de cette politique

Lorsque nous modifions cette politique, nous publions une nouvelle version avec sa date d’entrée en vigueur.
Les versions précédentes restent consultables sur cette page.
"""


def ship_translations(apps, schema_editor):
    PolicyVersion = apps.get_model("portal", "PolicyVersion")
    english = PolicyVersion.objects.filter(version=1, language="en").first()
    if english is None or PolicyVersion.objects.filter(version=1, language__in=["de", "fr"]).exists():
        return  # the operator's own texts are never touched
    for language, body, summary in (("de", POLICY_DE, "Erste Fassung."), ("fr", POLICY_FR, "Première version.")):
        PolicyVersion.objects.create(version=1, language=language, effective_date=english.effective_date,
                                     summary_of_changes=summary, body=body, published_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("portal", "0004_alter_policyversion_summary_of_changes_and_more")]

    operations = [migrations.RunPython(ship_translations, migrations.RunPython.noop)]
