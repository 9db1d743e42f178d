"""CAP 1.2 (OASIS Common Alerting Protocol): import an alert as a draft notice, export any notice.

Parsing uses defusedxml with DTDs forbidden, so entity bombs and external entities are refused; documents are
bounded in size before parsing. Mapping: info (per language) -> title/body, severity -> severity,
expires -> expires_at, area (geocode "VN_AREA" / "AREA_CODE" or areaDesc = an area's name) -> area codes,
msgType Update/Cancel with references to one of the account's notices -> a follow-up of that notice.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET  # noqa: S405 - only used to *write* XML; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils import timezone
from django.utils.translation import gettext as _

from broadcasts.models import Notice
from oa_platform.errors import ValidationFailed
from oa_platform.models import Area, OfficialAccount, Topic

NS = "urn:oasis:names:tc:emergency:cap:1.2"
# A real CAP alert is a few KB; 256 KB leaves room for many areas and languages and bounds parsing work.
CAP_MAX_BYTES = 256 * 1024
GEOCODE_NAMES = {"VN_AREA", "AREA_CODE", "area_code", "code"}
SEVERITY_TO_CAP = {"extreme": "Extreme", "severe": "Severe", "moderate": "Moderate", "minor": "Minor"}
CATEGORY_TO_CAP = {"storm-flood": "Met", "health": "Health", "vaccination": "Health", "traffic": "Transport"}
CAP_TO_CATEGORY = {"Met": "storm-flood", "Health": "health", "Transport": "traffic"}
KIND_TO_MSGTYPE = {"alert": "Alert", "update": "Update", "cancel": "Cancel"}


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _text(el, tag: str) -> str:
    child = el.find(_q(tag))
    return (child.text or "").strip() if child is not None and child.text else ""


def _lang(value: str) -> str:
    value = (value or "en-US").lower()
    if value.startswith("vi"):
        return "vi"
    if value.startswith("zh"):
        return "zh"
    return "en"


def _parse_time(value: str, field: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValidationFailed(_("Invalid CAP date."), fields={field: value[:40]}) from exc
    if timezone.is_naive(parsed):
        raise ValidationFailed(_("CAP dates need a time zone offset."), fields={field: value[:40]})
    return parsed


def cap_parse(*, account: OfficialAccount, data: bytes) -> dict:
    """CAP XML -> notice fields (plus ``kind`` and ``references``). Raises ValidationFailed on anything wrong."""
    if not data or not data.strip():
        raise ValidationFailed(_("Empty CAP document."), code="cap_invalid")
    if len(data) > CAP_MAX_BYTES:
        raise ValidationFailed(_("CAP document too large."), code="cap_too_large", fields={"max_bytes": CAP_MAX_BYTES})
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ValidationFailed(_("CAP documents may not declare a DTD or entities."), code="cap_forbidden") from exc
    except ET.ParseError as exc:
        raise ValidationFailed(_("Malformed CAP XML."), code="cap_invalid", fields={"xml": str(exc)[:200]}) from exc
    if root.tag != _q("alert"):
        raise ValidationFailed(_("Not a CAP 1.2 alert."), code="cap_invalid")
    missing = [t for t in ("identifier", "sender", "sent", "status", "msgType", "scope") if not _text(root, t)]
    infos = root.findall(_q("info"))
    if missing or not infos:
        raise ValidationFailed(_("Incomplete CAP alert."), code="cap_invalid", fields={"missing": missing or ["info"]})
    msg_type = _text(root, "msgType")
    by_lang: dict[str, object] = {}
    for info in infos:
        by_lang.setdefault(_lang(_text(info, "language")), info)
    main = by_lang["vi"] if "vi" in by_lang else infos[0]
    values: dict = {}
    for lang, info in [("vi", main), *[(k, v) for k, v in by_lang.items() if k != "vi"]]:
        title = _text(info, "headline") or _text(info, "event")
        body = "\n\n".join(t for t in (_text(info, "description"), _text(info, "instruction")) if t)
        values[f"title_{lang}"] = title[:200]
        values[f"body_{lang}"] = body
    severity = _text(main, "severity").lower()
    values["severity"] = severity if severity in SEVERITY_TO_CAP else Notice.SEVERITY_MODERATE
    keys = set(Topic.objects.filter(account=account).values_list("key", flat=True))
    category = CAP_TO_CATEGORY.get(_text(main, "category"), "general")
    values["category"] = category if category in keys else ("general" if "general" in keys else category)
    values["expires_at"] = _parse_time(_text(main, "expires"), "expires")
    values["link"] = _text(main, "web")[:200]
    codes: list[str] = []
    unknown: list[str] = []
    for area in main.findall(_q("area")):
        found = False
        for geocode in area.findall(_q("geocode")):
            if _text(geocode, "valueName") in GEOCODE_NAMES and _text(geocode, "value"):
                codes.append(_text(geocode, "value"))
                found = True
        if not found:
            desc = _text(area, "areaDesc")
            match = (
                Area.objects.filter(name__iexact=desc).first() or Area.objects.filter(name_ascii__iexact=desc).first()
            )
            if match is None:
                unknown.append(desc[:80])
            else:
                codes.append(match.code)
    if unknown:
        raise ValidationFailed(_("Unknown area in CAP alert."), fields={"audience_areas": unknown})
    values["audience_areas"] = list(dict.fromkeys(codes))
    values["audience_all"] = not codes
    extra = {"kind": Notice.KIND_ALERT, "references": None, "mode": "live"}
    if _text(root, "status") in ("Test", "Exercise"):
        values["mode"] = Notice.MODE_TEST
    if msg_type in ("Update", "Cancel"):
        extra["kind"] = msg_type.lower()
        refs = _text(root, "references").split()
        for ref in refs:
            parts = ref.split(",")
            if len(parts) == 3 and parts[1].startswith(f"oa-{account.slug}-notice-"):
                try:
                    extra["references"] = Notice.objects.get(account=account, pk=int(parts[1].rsplit("-", 1)[1]))
                except (ValueError, Notice.DoesNotExist):
                    pass
    return {"values": values, **extra}


def _cap_time(value: dt.datetime, tz) -> str:
    return timezone.localtime(value, tz).replace(microsecond=0).isoformat()


def cap_sender(account: OfficialAccount) -> str:
    return f"{account.slug}@oa.gov.vn"


def cap_export(notice: Notice) -> bytes:
    """The notice as a CAP 1.2 alert; updates and cancellations carry <references> to the original."""
    ET.register_namespace("", NS)
    account = notice.account
    tz = account.tzinfo
    alert = ET.Element(_q("alert"))

    def sub(parent, tag, text):
        el = ET.SubElement(parent, _q(tag))
        el.text = text
        return el

    sub(alert, "identifier", notice.cap_identifier)
    sub(alert, "sender", cap_sender(account))
    sub(alert, "sent", _cap_time(notice.started_at or notice.created_at, tz))
    sub(alert, "status", "Test" if notice.mode == Notice.MODE_TEST else "Actual")
    sub(alert, "msgType", KIND_TO_MSGTYPE[notice.kind])
    sub(alert, "scope", "Public")
    if notice.references_id:
        ref = notice.references
        sub(
            alert,
            "references",
            f"{cap_sender(account)},{ref.cap_identifier},{_cap_time(ref.started_at or ref.created_at, tz)}",
        )
    topic = Topic.objects.filter(account=account, key=notice.category).first()
    areas = list(Area.objects.filter(code__in=notice.audience_areas))
    for lang, code in (("vi", "vi-VN"), ("en", "en-US"), ("zh", "zh-CN")):
        title = getattr(notice, f"title_{lang}")
        body = getattr(notice, f"body_{lang}")
        if not (title and body):
            continue
        info = ET.SubElement(alert, _q("info"))
        sub(info, "language", code)
        sub(info, "category", CATEGORY_TO_CAP.get(notice.category, "Other"))
        sub(info, "event", topic.label("zh-hans" if lang == "zh" else lang) if topic else notice.category)
        sub(info, "urgency", "Immediate" if notice.severity in Notice.URGENT_SEVERITIES else "Expected")
        sub(info, "severity", SEVERITY_TO_CAP[notice.severity])
        sub(info, "certainty", "Observed" if notice.severity in Notice.URGENT_SEVERITIES else "Likely")
        if notice.expires_at:
            sub(info, "expires", _cap_time(notice.expires_at, tz))
        sub(info, "senderName", account.name)
        sub(info, "headline", title)
        sub(info, "description", body)
        if notice.link:
            sub(info, "web", notice.link)
        for area in areas or [None]:
            area_el = ET.SubElement(info, _q("area"))
            if area is None:
                sub(area_el, "areaDesc", "Toàn bộ người theo dõi" if lang == "vi" else "All followers")
                continue
            sub(area_el, "areaDesc", area.name)
            geocode = ET.SubElement(area_el, _q("geocode"))
            sub(geocode, "valueName", "VN_AREA")
            sub(geocode, "value", area.code)
    return ET.tostring(alert, encoding="utf-8", xml_declaration=True)
