"""DSA transparency report (Art. 15, 24(1)) in the structure of the harmonised templates.

Implementing Regulation (EU) 2024/2835, Annex I (quantitative template), for data
collected from 1 July 2025 on. Every item the portal can count is filled from its
records; the items it cannot know (orders from authorities, out-of-court disputes,
recipients, staff, …) are left empty and listed, so the operator completes them by
hand. Sections and item names follow the Annex; the Commission's XLSX file may place
them in other cells: copy the figures over when filing with that file.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from abuse_app.dsa.statements import ACTION_MAP, CATEGORY_MAP
from abuse_app.models import Appeal, Decision, Notice, ReporterStanding

HEADER = ("section", "item", "breakdown", "value")


@dataclass
class Report:
    start: datetime
    end: datetime
    rows: list[tuple[str, str, str, Any]] = field(default_factory=list)
    unknown: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, section: str, item: str, value: Any, breakdown: str = "") -> None:
        self.rows.append((section, item, breakdown, value))

    def empty(self, section: str, item: str, why: str) -> None:
        """An item the portal cannot know: an empty cell, and a line in the list of what to add."""
        self.rows.append((section, item, "", None))
        self.unknown.append((section, item, why))

    def value(self, section: str, item: str, breakdown: str = "") -> Any:
        for row in self.rows:
            if row[:3] == (section, item, breakdown):
                return row[3]
        raise KeyError((section, item, breakdown))


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """Days ``first`` to ``last`` (included) as [first 00:00, day after last 00:00) in the portal's zone."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(first, time.min, tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
    )


def _median_hours(pairs: list[tuple[datetime, datetime | None]]) -> float | None:
    hours = [(later - earlier).total_seconds() / 3600 for earlier, later in pairs if earlier and later]
    return round(statistics.median(hours), 1) if hours else None


def _restriction(action: str) -> str:
    return ACTION_MAP[action][0] if action in ACTION_MAP else "no restriction"


NOTICES = "B. Notices (Art. 16)"
OWN = "C. Own-initiative content moderation"
RESTRICTIONS = "D. Restrictions imposed (all decisions)"
COMPLAINTS = "E. Complaints (Art. 20)"
DISPUTES = "F. Out-of-court dispute settlement (Art. 21)"
SUSPENSIONS = "G. Suspensions (Art. 23)"


def build_report(start: datetime, end: datetime) -> Report:
    """Every figure of ``[start, end)`` that the portal knows, in the template's sections."""
    report = Report(start, end)
    _identification(report)
    report.empty("A. Orders from Member States' authorities (Art. 9, 10)", "Orders received",
                 "The portal does not record orders to act or to provide information.")  # fmt: skip
    _notices(report)
    _own_initiative(report)
    _restrictions(report)
    _complaints(report)
    for item in ("Disputes submitted", "Disputes decided in the recipient's favour",
                 "Median time to conclude (days)", "Share of decisions the provider complied with"):  # fmt: skip
        report.empty(DISPUTES, item, "Out-of-court disputes are not recorded in the portal.")
    _suspensions(report)
    report.empty("H. Average monthly active recipients (Art. 24(2))", "Average monthly active recipients",
                 "The host app knows its users; the portal does not.")  # fmt: skip
    report.empty("I. Human resources", "Content moderators by official EU language",
                 "Staffing is not recorded in the portal.")  # fmt: skip
    return report


def _identification(report: Report) -> None:
    section = "0. Identification"
    report.add(section, "Provider", settings.PORTAL_OPERATOR_NAME)
    report.add(section, "Service", settings.PORTAL_APP_NAME)
    report.add(section, "Reporting period start", report.start.date().isoformat())
    report.add(section, "Reporting period end", (report.end - timedelta(seconds=1)).date().isoformat())


def _decisions(report: Report) -> QuerySet[Decision]:
    return Decision.objects.filter(decided_at__gte=report.start, decided_at__lt=report.end).select_related("case")


def _notices(report: Report) -> None:
    notices = Notice.objects.filter(received_at__gte=report.start, received_at__lt=report.end)
    report.add(NOTICES, "Notices received", notices.count(), "total")
    by_category = Counter(CATEGORY_MAP[c][0] for c in notices.values_list("category", flat=True))
    for category in sorted({m[0] for m in CATEGORY_MAP.values()}):
        report.add(NOTICES, "Notices received by type of alleged illegal content", by_category[category], category)
    report.add(NOTICES, "Notices submitted by trusted flaggers", notices.filter(channel="trusted_flagger").count())
    on_notice = _decisions(report).filter(case__notices__isnull=False).distinct()
    acted = on_notice.exclude(action=Decision.Action.NONE)
    report.add(NOTICES, "Actions taken on notices", acted.filter(ground="illegal").count(), "on the basis of the law")
    report.add(NOTICES, "Actions taken on notices", acted.filter(ground="terms").count(),
               "on the basis of the terms and conditions")  # fmt: skip
    report.add(NOTICES, "Decisions on notices taking no action", on_notice.filter(action=Decision.Action.NONE).count())
    report.add(NOTICES, "Notices processed by automated means", on_notice.filter(automated=True).count())
    report.add(NOTICES, "Median time to take action (hours)",
               _median_hours(list(on_notice.values_list("case__first_received_at", "decided_at"))))  # fmt: skip


def _own_initiative(report: Report) -> None:
    own = _decisions(report).filter(case__notices__isnull=True).exclude(action=Decision.Action.NONE)
    report.add(OWN, "Measures taken on the provider's own initiative", own.count(), "total")
    report.add(OWN, "Measures detected by automated means", own.filter(automated_detection=True).count())


def _restrictions(report: Report) -> None:
    decisions = _decisions(report)
    by_type = Counter(_restriction(a) for a in decisions.values_list("action", flat=True))
    for kind in ("decision_visibility", "decision_provision", "decision_account", "no restriction"):
        report.add(RESTRICTIONS, "Decisions by type of restriction", by_type[kind], kind)
    for ground, label in (("illegal", "illegal content"), ("terms", "incompatible with the terms"), ("", "none")):
        report.add(RESTRICTIONS, "Decisions by ground", decisions.filter(ground=ground).count(), label)
    report.add(RESTRICTIONS, "Decisions taken by automated means", decisions.filter(automated=True).count())
    report.add(RESTRICTIONS, "Content detected by automated means", decisions.filter(automated_detection=True).count())


def _complaints(report: Report) -> None:
    filed = Appeal.objects.filter(filed_at__gte=report.start, filed_at__lt=report.end)
    report.add(COMPLAINTS, "Complaints received", filed.count(), "total")
    for appellant in Appeal.Appellant:
        report.add(COMPLAINTS, "Complaints received", filed.filter(appellant=appellant).count(), f"by {appellant}")
    decided = Appeal.objects.filter(decided_at__gte=report.start, decided_at__lt=report.end)
    report.add(COMPLAINTS, "Complaints decided", decided.filter(status="upheld").count(), "decision upheld")
    report.add(COMPLAINTS, "Complaints decided", decided.filter(status="overturned").count(), "decision reversed")
    report.add(COMPLAINTS, "Complaints pending at the end of the period",
               Appeal.objects.filter(Q(decided_at__isnull=True) | Q(decided_at__gte=report.end),
                                     filed_at__lt=report.end).count())  # fmt: skip
    hours = _median_hours(list(decided.values_list("filed_at", "decided_at")))
    report.add(COMPLAINTS, "Median time to decide (days)", round(hours / 24, 1) if hours is not None else None)


def _suspensions(report: Report) -> None:
    report.add(SUSPENSIONS, "Suspensions for providing manifestly illegal content",
               _decisions(report).filter(action="suspend_account", ground="illegal").count())  # fmt: skip
    report.add(SUSPENSIONS, "Suspensions for manifestly unfounded notices",
               ReporterStanding.objects.suspended_between(report.start, report.end).count())  # fmt: skip
    report.empty(SUSPENSIONS, "Suspensions for manifestly unfounded complaints",
                 "The portal does not suspend complainants; record any done by hand.")  # fmt: skip


def report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(("" if v is None else v for v in row) for row in report.rows)
    writer.writerow([])
    writer.writerow(("not known to the portal: section", "item", "why", ""))
    writer.writerows(report.unknown)
    return out.getvalue()


def report_xlsx(report: Report) -> bytes:
    """One sheet per section (item, breakdown, value), then a sheet listing the empty cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for section in dict.fromkeys(row[0] for row in report.rows):
        sheet = book.create_sheet(section.split(" (")[0][:31].replace("/", "-"))
        sheet.append([section])
        sheet.append(["item", "breakdown", "value"])
        for cell in (*sheet[1], *sheet[2]):
            cell.font = Font(bold=True)
        for _section, item, breakdown, value in (r for r in report.rows if r[0] == section):
            sheet.append([item, breakdown, value])
        sheet.column_dimensions["A"].width, sheet.column_dimensions["B"].width = 60, 45
    sheet = book.create_sheet("Not known to the portal")
    sheet.append(["section", "item", "why"])
    for row in report.unknown:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
