"""API shapes of notices: input validated here for types, then by the services for meaning."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from broadcasts.models import Notice
from oa_platform.schema import NOT_BLANK
from oa_platform.url_policy import validate_web_url


@extend_schema_field({"type": "string", "anyOf": [{"format": "uri"}, {"maxLength": 0}], "maxLength": 200})
class UrlOrEmptyField(serializers.CharField):
    """A link: an http(s) URL, or an empty string for none (the API returns "" when a notice has no link).
    A CharField checked by the one URL policy (oa_platform.url_policy), so that the schema says exactly that (a
    URLField is described as a URI only, and "" is not one)."""

    def to_internal_value(self, data):
        # Checked here, not in .validators: drf-spectacular would describe a URL validator as a URI only.
        value = super().to_internal_value(data)
        if value:
            validate_web_url(value)
        return value


class NoticeIn(serializers.Serializer):
    category = serializers.CharField(max_length=40, min_length=1, validators=[NOT_BLANK])
    severity = serializers.ChoiceField(choices=[c for c, _l in Notice.SEVERITY_CHOICES], default="moderate")
    # Required and not blank: the schema says so (minLength 1) instead of a valid-looking "" getting a 400.
    title_vi = serializers.CharField(max_length=200, min_length=1, validators=[NOT_BLANK])
    body_vi = serializers.CharField(max_length=4000, min_length=1, validators=[NOT_BLANK])
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body_en = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    body_zh = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    link = UrlOrEmptyField(required=False, allow_blank=True, default="", max_length=200)
    audience_all = serializers.BooleanField(required=False, default=False)
    audience_topics = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    audience_areas = serializers.ListField(child=serializers.CharField(max_length=20), required=False, default=list)
    audience_languages = serializers.ListField(child=serializers.CharField(max_length=8), required=False, default=list)
    send_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    mode = serializers.ChoiceField(choices=[c for c, _l in Notice.MODE_CHOICES], default="live")


class SubmitIn(serializers.Serializer):
    send_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class FollowUpIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[Notice.KIND_UPDATE, Notice.KIND_CANCEL])


class ProgressOut(serializers.Serializer):
    status = serializers.CharField()
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    percent = serializers.FloatField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    by_channel = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))


class PreviewOut(serializers.Serializer):
    total = serializers.IntegerField()
    by_channel = serializers.DictField(child=serializers.IntegerField())
    by_language = serializers.DictField(child=serializers.IntegerField())


class NoticeOut(serializers.ModelSerializer):
    references = serializers.IntegerField(
        source="references_id", read_only=True, allow_null=True, help_text="id of the corrected notice, or null"
    )
    link = UrlOrEmptyField(read_only=True)
    author = serializers.SerializerMethodField()
    approver = serializers.SerializerMethodField()

    class Meta:
        model = Notice
        fields = [
            "id",
            "status",
            "kind",
            "references",
            "category",
            "severity",
            "title_vi",
            "body_vi",
            "title_en",
            "body_en",
            "title_zh",
            "body_zh",
            "link",
            "audience_all",
            "audience_topics",
            "audience_areas",
            "audience_languages",
            "mode",
            "send_at",
            "dispatch_at",
            "expires_at",
            "created_at",
            "submitted_at",
            "approved_at",
            "started_at",
            "finished_at",
            "cancelled_at",
            "recipients_count",
            "author",
            "approver",
        ]
        read_only_fields = fields

    def get_author(self, obj) -> str:
        return (
            obj.author.get_username() if obj.author else (f"token:{obj.author_token.name}" if obj.author_token else "")
        )

    def get_approver(self, obj) -> str:
        if obj.approver:
            return obj.approver.get_username()
        return f"token:{obj.approver_token.name}" if obj.approver_token else ""


class NoticeResultOut(serializers.Serializer):
    notice = NoticeOut()
    notes = serializers.ListField(child=serializers.CharField())


class NoticeDetailOut(serializers.Serializer):
    notice = NoticeOut()
    progress = ProgressOut()
