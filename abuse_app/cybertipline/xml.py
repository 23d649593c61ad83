"""The CyberTipline's XML: the report and file details we send, the answers we read.

Built with ElementTree (it escapes text and attributes); answers are parsed with
entity expansion and external resources refused (``xmlschema`` in ``defuse="always"``
mode), since they come from the network. Validation against the API's own schema
(``GET /xsd``) is ``validate``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: S405  (building only; parsing goes through ``parse_answer``)
from dataclasses import dataclass, field
from datetime import datetime

import xmlschema

XSI = "http://www.w3.org/2001/XMLSchema-instance"


@dataclass(frozen=True)
class IpEvent:
    ip_address: str
    event_name: str = "Unknown"  # Login, Registration, Purchase, Upload, Other, Unknown
    at: datetime | None = None
    possible_proxy: bool | None = None


@dataclass(frozen=True)
class ReportedPerson:
    esp_identifier: str = ""
    esp_service: str = ""
    screen_name: str = ""
    display_names: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    ip_events: tuple[IpEvent, ...] = ()


@dataclass(frozen=True)
class Reporter:
    email: str
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    terms_of_service: str = ""
    legal_url: str = ""


@dataclass(frozen=True)
class ReportContent:
    incident_type: str
    incident_at: datetime
    reporter: Reporter
    escalate_reason: str = ""
    urls: tuple[str, ...] = ()
    person: ReportedPerson | None = None
    additional_info: str = ""


@dataclass(frozen=True)
class FileDetails:
    report_id: str
    file_id: str
    original_name: str = ""
    viewed_by_esp: bool | None = None
    publicly_available: bool | None = None
    industry_classification: str = ""
    hashes: dict[str, str] = field(default_factory=dict)  # hashType -> value


class AnswerError(ValueError):
    """The API's answer is not the XML its description promises."""


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _text(parent: ET.Element, tag: str, value: object, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    element.text = str(value).lower() if isinstance(value, bool) else str(value)
    return element


def _ip_event(parent: ET.Element, event: IpEvent) -> None:
    node = ET.SubElement(parent, "ipCaptureEvent")
    _text(node, "ipAddress", event.ip_address)
    _text(node, "eventName", event.event_name)
    if event.at:
        _text(node, "dateTime", _iso(event.at))
    if event.possible_proxy is not None:
        _text(node, "possibleProxy", event.possible_proxy)


def _root(tag: str) -> ET.Element:
    return ET.Element(tag, {f"{{{XSI}}}noNamespaceSchemaLocation": "https://report.cybertip.org/ispws/xsd"})


def _serialise(root: ET.Element) -> str:
    ET.register_namespace("xsi", XSI)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")


def report_xml(content: ReportContent) -> str:
    root = _root("report")
    summary = ET.SubElement(root, "incidentSummary")
    _text(summary, "incidentType", content.incident_type)
    if content.escalate_reason:
        _text(summary, "escalateToHighPriority", content.escalate_reason)
    _text(summary, "incidentDateTime", _iso(content.incident_at))
    if content.urls:
        web = ET.SubElement(ET.SubElement(root, "internetDetails"), "webPageIncident")
        for url in content.urls:
            _text(web, "url", url)
    _reporter(root, content.reporter)
    if content.person:
        _person(root, content.person)
    if content.additional_info:
        _text(root, "additionalInfo", content.additional_info)
    return _serialise(root)


def _reporter(root: ET.Element, who: Reporter) -> None:
    reporter = ET.SubElement(root, "reporter")
    person = ET.SubElement(reporter, "reportingPerson")
    if who.first_name:
        _text(person, "firstName", who.first_name)
    if who.last_name:
        _text(person, "lastName", who.last_name)
    _text(person, "email", who.email)
    if who.company:
        _text(reporter, "companyTemplate", who.company)
    if who.terms_of_service:
        _text(reporter, "termsOfService", who.terms_of_service[:3000])
    if who.legal_url:
        _text(reporter, "legalURL", who.legal_url)


def _person(root: ET.Element, who: ReportedPerson) -> None:
    node = ET.SubElement(root, "personOrUserReported")
    if who.emails:
        details = ET.SubElement(node, "personOrUserReportedPerson")
        for email in who.emails:
            _text(details, "email", email)
    if who.esp_identifier:
        _text(node, "espIdentifier", who.esp_identifier)
    if who.esp_service:
        _text(node, "espService", who.esp_service)
    if who.screen_name:
        _text(node, "screenName", who.screen_name)
    for name in who.display_names:
        _text(node, "displayName", name)
    for event in who.ip_events:
        _ip_event(node, event)


def file_details_xml(details: FileDetails) -> str:
    root = _root("fileDetails")
    _text(root, "reportId", details.report_id)
    _text(root, "fileId", details.file_id)
    if details.original_name:
        _text(root, "originalFileName", details.original_name)
    if details.viewed_by_esp is not None:
        _text(root, "fileViewedByEsp", details.viewed_by_esp)
    if details.publicly_available is not None:
        _text(root, "publiclyAvailable", details.publicly_available)
    _text(root, "fileRelevance", "Reported")
    if details.industry_classification:
        _text(root, "industryClassification", details.industry_classification)
    for kind, value in details.hashes.items():
        _text(root, "originalFileHash", value, hashType=kind)
    return _serialise(root)


def validate(document: str, schema_text: str) -> list[str]:
    """Every way ``document`` breaks the schema, as sentences (empty: valid)."""
    schema = xmlschema.XMLSchema(schema_text)
    resource = xmlschema.XMLResource(document, defuse="always")
    return [f"{error.path}: {error.reason}" for error in schema.iter_errors(resource)]


@dataclass(frozen=True)
class Answer:
    root_tag: str
    response_code: int
    description: str
    report_id: str
    file_id: str
    hash: str


def parse_answer(body: bytes | str) -> Answer:
    """Read a ``reportResponse`` / ``reportDoneResponse`` (responseCode 0 is success)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        root = xmlschema.XMLResource(text.strip(), defuse="always").root
    except Exception as exc:  # the parser's own errors are many kinds
        raise AnswerError(f"the answer is not XML ({type(exc).__name__})") from exc
    code = (root.findtext("responseCode") or "").strip()
    if not code.lstrip("-").isdigit():
        raise AnswerError(f"the answer <{root.tag}> has no numeric responseCode")
    return Answer(
        root_tag=root.tag,
        response_code=int(code),
        description=(root.findtext("responseDescription") or "").strip(),
        report_id=(root.findtext("reportId") or "").strip(),
        file_id=(root.findtext("fileId") or "").strip(),
        hash=(root.findtext("hash") or "").strip(),
    )
