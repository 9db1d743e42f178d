"""Forms of the notice compose flow (one question per step) and day-first dates in the account's time zone.

Dates are typed and shown ``dd/mm/yyyy`` with a 24-hour ``HH:MM`` time, in the account's time zone, whatever
the staff language: "10/12/2026" is 10 December. Anything else (ISO dates, a two-digit year, a month above 12,
a.m./p.m.) is a field error rather than a guess; so is a time that has already passed."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from broadcasts.models import Notice

DATE_RE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")
TIME_RE = re.compile(r"^\s*(\d{1,2})[:h](\d{2})\s*$")
DATE_FORMAT = "%d/%m/%Y"
TIME_FORMAT = "%H:%M"

# The citizen page's severity labels (templates/oa/account.html, oa_platform/views.py): one wording everywhere.
SEVERITY_LABELS = {
    Notice.SEVERITY_EXTREME: gettext_lazy("Khẩn cấp"),
    Notice.SEVERITY_SEVERE: gettext_lazy("Nghiêm trọng"),
    Notice.SEVERITY_MODERATE: gettext_lazy("Lưu ý"),
    Notice.SEVERITY_MINOR: gettext_lazy("Thông tin"),
}
SEVERITY_HINTS = {
    Notice.SEVERITY_EXTREME: gettext_lazy("Nguy hiểm đến tính mạng, cần làm ngay. Gửi cả trong giờ yên tĩnh."),
    Notice.SEVERITY_SEVERE: gettext_lazy("Đe dọa lớn đến người hoặc tài sản. Gửi cả trong giờ yên tĩnh."),
    Notice.SEVERITY_MODERATE: gettext_lazy("Có thể ảnh hưởng đến người nhận. Chờ hết giờ yên tĩnh mới gửi."),
    Notice.SEVERITY_MINOR: gettext_lazy("Thông tin chung, hầu như không có nguy cơ. Chờ hết giờ yên tĩnh."),
}


def zone_label(tz: zoneinfo.ZoneInfo, at: dt.datetime | None = None) -> str:
    """The zone named for a reader: "Asia/Ho_Chi_Minh (UTC+07:00)"."""
    at = at or timezone.now()
    offset = at.astimezone(tz).strftime("%z")
    return f"{tz.key} (UTC{offset[:3]}:{offset[3:]})"


def format_local(value: dt.datetime | None, tz: zoneinfo.ZoneInfo, *, with_zone: bool = True) -> str:
    """``dd/mm/yyyy HH:MM`` in ``tz``, the zone named after it; "" for None."""
    if value is None:
        return ""
    local = timezone.localtime(value, tz)
    text = local.strftime(f"{DATE_FORMAT} {TIME_FORMAT}")
    return f"{text} {zone_label(tz, value)}" if with_zone else text


def parse_local(date_text: str, time_text: str, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    """A typed day-first date and 24-hour time in ``tz`` as an aware datetime. Raises ValidationError with a
    message that says what was expected; never swaps day and month."""
    match = DATE_RE.match(date_text or "")
    if not match:
        raise forms.ValidationError(_("Nhập ngày theo dạng ngày/tháng/năm, ví dụ 10/12/2026."), code="date_format")
    day, month, year = (int(part) for part in match.groups())
    if not 1 <= month <= 12:
        raise forms.ValidationError(
            _("Tháng phải từ 1 đến 12: ngày viết trước, tháng viết sau (10/12/2026 là ngày 10 tháng 12)."),
            code="date_month",
        )
    try:
        day_value = dt.date(year, month, day)
    except ValueError:
        raise forms.ValidationError(_("Ngày này không có trong lịch."), code="date_invalid") from None
    match = TIME_RE.match(time_text or "")
    if not match:
        raise forms.ValidationError(_("Nhập giờ theo dạng 24 giờ GIỜ:PHÚT, ví dụ 14:30."), code="time_format")
    hour, minute = (int(part) for part in match.groups())
    if hour > 23 or minute > 59:
        raise forms.ValidationError(_("Giờ từ 00:00 đến 23:59."), code="time_invalid")
    return dt.datetime.combine(day_value, dt.time(hour, minute), tzinfo=tz)


class ContentForm(forms.Form):
    """Step 1: what the notice says, in each language (Vietnamese required), its severity and an optional link."""

    title_vi = forms.CharField(label=gettext_lazy("Tiêu đề (tiếng Việt)"), max_length=200)
    body_vi = forms.CharField(label=gettext_lazy("Nội dung (tiếng Việt)"), max_length=4000, widget=forms.Textarea)
    title_en = forms.CharField(label=gettext_lazy("Tiêu đề (tiếng Anh)"), max_length=200, required=False)
    body_en = forms.CharField(
        label=gettext_lazy("Nội dung (tiếng Anh)"), max_length=4000, required=False, widget=forms.Textarea
    )
    title_zh = forms.CharField(label=gettext_lazy("Tiêu đề (tiếng Trung)"), max_length=200, required=False)
    body_zh = forms.CharField(
        label=gettext_lazy("Nội dung (tiếng Trung)"), max_length=4000, required=False, widget=forms.Textarea
    )
    severity = forms.ChoiceField(
        label=gettext_lazy("Mức độ"), choices=list(SEVERITY_LABELS.items()), widget=forms.RadioSelect
    )
    link = forms.CharField(
        label=gettext_lazy("Đường dẫn (không bắt buộc)"),
        help_text=gettext_lazy("Một địa chỉ bắt đầu bằng https:// hoặc http://"),
        max_length=200,
        required=False,
    )

    def clean(self):
        data = super().clean()
        for lang in ("en", "zh"):
            if bool(data.get(f"title_{lang}")) != bool(data.get(f"body_{lang}")):
                self.add_error(f"body_{lang}", _("Nhập cả tiêu đề và nội dung cho ngôn ngữ này, hoặc bỏ trống cả hai."))
        return data


class ScheduleForm(forms.Form):
    """Step 3: send now or at a typed local time; an optional expiry; live or test mode."""

    WHEN_NOW = "now"
    WHEN_LATER = "later"
    when = forms.ChoiceField(
        label=gettext_lazy("Khi nào gửi?"),
        choices=[(WHEN_NOW, gettext_lazy("Ngay khi được duyệt")), (WHEN_LATER, gettext_lazy("Vào một thời điểm"))],
        widget=forms.RadioSelect,
    )
    send_date = forms.CharField(label=gettext_lazy("Ngày gửi"), required=False, max_length=20)
    send_time = forms.CharField(label=gettext_lazy("Giờ gửi"), required=False, max_length=10)
    expires_date = forms.CharField(label=gettext_lazy("Ngày hết hạn"), required=False, max_length=20)
    expires_time = forms.CharField(label=gettext_lazy("Giờ hết hạn"), required=False, max_length=10)
    mode = forms.ChoiceField(
        label=gettext_lazy("Gửi cho ai?"),
        choices=[
            (Notice.MODE_LIVE, gettext_lazy("Người nhận thật")),
            (Notice.MODE_TEST, gettext_lazy("Gửi thử: chỉ nhóm thử nghiệm của cán bộ")),
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, tz: zoneinfo.ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self):
        data = super().clean()
        now = timezone.now()
        data["send_at"] = None
        data["expires_at"] = None
        if data.get("when") == self.WHEN_LATER:
            try:
                data["send_at"] = parse_local(data.get("send_date", ""), data.get("send_time", ""), self.tz)
            except forms.ValidationError as exc:
                self.add_error("send_date", exc)
            else:
                if data["send_at"] <= now:
                    self.add_error("send_date", _("Thời điểm này đã qua. Chọn một thời điểm sau bây giờ."))
        if data.get("expires_date") or data.get("expires_time"):
            try:
                data["expires_at"] = parse_local(data.get("expires_date", ""), data.get("expires_time", ""), self.tz)
            except forms.ValidationError as exc:
                self.add_error("expires_date", exc)
            else:
                after = data["send_at"] or now
                if data["expires_at"] <= after:
                    self.add_error("expires_date", _("Thời điểm hết hạn phải sau thời điểm gửi."))
        return data
