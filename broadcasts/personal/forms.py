"""The console form a sender fills in to submit a checked list: skip invalid rows or not, the severity (the
notices' own choices and labels: quiet hours apply as to a notice), when it goes out ("as soon as approved" or a
day-first local date and 24-hour time in the account's time zone) and an optional "do not send after" time.

The form only reads what was typed (the notice compose flow's parser, so one date rule everywhere); whether a
time is in the past, too far ahead or before the sending time is the service's check (lists.list_submit)."""

from __future__ import annotations

import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy

from broadcasts.models import Notice
from oa_platform.console.notice_forms import SEVERITY_HINTS, SEVERITY_LABELS, parse_local

WHEN_NOW = "now"
WHEN_LATER = "later"
# The service's field names -> the inputs that show their errors.
FIELD_INPUTS = {"send_at": "send_date", "expires_at": "expires_date", "severity": "severity"}


class ListSendForm(forms.Form):
    skip_invalid = forms.BooleanField(required=False)
    severity = forms.ChoiceField(
        label=gettext_lazy("Mức độ"),
        choices=list(SEVERITY_LABELS.items()),
        initial=Notice.SEVERITY_MODERATE,
        required=False,  # not chosen: moderate, the notices' default
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Chọn một mức độ."),
            "invalid_choice": gettext_lazy("Chọn một mức độ."),
        },
    )
    when = forms.ChoiceField(
        label=gettext_lazy("Khi nào gửi?"),
        choices=[(WHEN_NOW, gettext_lazy("Ngay khi được duyệt")), (WHEN_LATER, gettext_lazy("Vào một thời điểm"))],
        initial=WHEN_NOW,
        required=False,  # not chosen: as soon as approved
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("Chọn khi nào gửi."),
            "invalid_choice": gettext_lazy("Chọn khi nào gửi."),
        },
    )
    send_date = forms.CharField(label=gettext_lazy("Ngày gửi"), required=False, max_length=20)
    send_time = forms.CharField(label=gettext_lazy("Giờ gửi"), required=False, max_length=10)
    expires_date = forms.CharField(label=gettext_lazy("Ngày hết hạn"), required=False, max_length=20)
    expires_time = forms.CharField(label=gettext_lazy("Giờ hết hạn"), required=False, max_length=10)

    def __init__(self, *args, tz: zoneinfo.ZoneInfo, **kwargs):
        super().__init__(*args, **kwargs)
        self.tz = tz

    def clean(self):
        data = super().clean()
        data["send_at"] = data["expires_at"] = None
        if "severity" not in self.errors:
            data["severity"] = data.get("severity") or Notice.SEVERITY_MODERATE
        if data.get("when") == WHEN_LATER:
            try:
                data["send_at"] = parse_local(data.get("send_date", ""), data.get("send_time", ""), self.tz)
            except forms.ValidationError as exc:
                self.add_error("send_date", exc)
        if data.get("expires_date") or data.get("expires_time"):
            try:
                data["expires_at"] = parse_local(data.get("expires_date", ""), data.get("expires_time", ""), self.tz)
            except forms.ValidationError as exc:
                self.add_error("expires_date", exc)
        return data

    def severities(self) -> list[dict]:
        """The severity radio buttons as the notice compose page shows them: label and quiet-hours hint."""
        chosen = str(self["severity"].value() or Notice.SEVERITY_MODERATE)
        return [
            {"value": value, "label": label, "hint": SEVERITY_HINTS[value], "checked": chosen == value}
            for value, label in SEVERITY_LABELS.items()
        ]
