"""API shapes of forms and responses: types checked here, meaning by the services (oa_platform.collect)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from oa_platform.collect.models import Form, Question
from oa_platform.collect.services import MAX_OPTIONS, MAX_QUESTIONS
from oa_platform.converters import ID_MAX
from oa_platform.schema import NOT_BLANK

OPTION_SCHEMA = {
    "oneOf": [
        {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S", "description": "a label in Vietnamese"},
        {
            "type": "object",
            "properties": {
                "key": {"type": "string", "maxLength": 60, "pattern": r"^[-a-zA-Z0-9_]+$"},
                "label_vi": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
                "label_en": {"type": "string", "maxLength": 200},
                "label_zh": {"type": "string", "maxLength": 200},
            },
            "required": ["label_vi"],
        },
    ]
}


@extend_schema_field(OPTION_SCHEMA)
class OptionField(serializers.Field):
    """An option: its Vietnamese label, or {key, label_vi, label_en, label_zh}."""

    default_error_messages = {
        "invalid": "An option is a label or an object with label_vi (and key, label_en, label_zh)."
    }

    def to_internal_value(self, data):
        if isinstance(data, str) and data.strip() and len(data) <= 200:
            return data.strip()
        if isinstance(data, dict):
            label = data.get("label_vi")
            key = data.get("key", "")
            texts = [data.get(name, "") for name in ("label_en", "label_zh")]
            if (
                isinstance(label, str)
                and label.strip()
                and len(label) <= 200
                and isinstance(key, str)
                and len(key) <= 60
                and all(isinstance(t, str) and len(t) <= 200 for t in texts)
            ):
                return {k: data[k] for k in ("key", "label_vi", "label_en", "label_zh") if k in data}
        self.fail("invalid")

    def to_representation(self, value):
        return value


class QuestionIn(serializers.Serializer):
    key = serializers.SlugField(max_length=60)
    type = serializers.ChoiceField(choices=Question.TYPES)
    label_vi = serializers.CharField(max_length=300, min_length=1, validators=[NOT_BLANK])
    label_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    label_zh = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    help_vi = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    help_en = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    help_zh = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    required = serializers.BooleanField(required=False, default=False)
    options = serializers.ListField(child=OptionField(), required=False, default=list, max_length=MAX_OPTIONS)
    min = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-1e15, max_value=1e15)
    max = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-1e15, max_value=1e15)


class RoundIn(serializers.Serializer):
    opens_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    closes_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    remind_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class ScheduleIn(serializers.Serializer):
    repeat = serializers.ChoiceField(choices=[c for c, _l in Form.REPEAT_CHOICES], default=Form.REPEAT_NONE)
    weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6), required=False, default=list, max_length=7
    )
    open_time = serializers.TimeField(required=False, allow_null=True, default=None, help_text="local time, HH:MM")
    window_minutes = serializers.IntegerField(required=False, default=24 * 60, min_value=1, max_value=7 * 24 * 60)
    remind_time = serializers.TimeField(required=False, allow_null=True, default=None, help_text="local time, HH:MM")


class AudienceIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[c for c, _l in Form.AUDIENCE_CHOICES], default=Form.AUDIENCE_FOLLOWERS)
    topic = serializers.SlugField(max_length=40, required=False, allow_blank=True, default="")


class FormIn(serializers.Serializer):
    key = serializers.SlugField(max_length=60)
    title_vi = serializers.CharField(max_length=200, min_length=1, validators=[NOT_BLANK])
    title_en = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title_zh = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    late_policy = serializers.ChoiceField(choices=[c for c, _l in Form.LATE_CHOICES], default=Form.LATE_ACCEPT)
    retention_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=3650
    )
    questions = serializers.ListField(child=QuestionIn(), min_length=1, max_length=MAX_QUESTIONS)
    round = RoundIn(required=False, allow_null=True, default=None, help_text="without dates: open now, no end")
    schedule = ScheduleIn(
        required=False, allow_null=True, default=None, help_text="recurring rounds (daily or on weekdays)"
    )
    audience = AudienceIn(required=False, allow_null=True, default=None, help_text="default: the account's followers")


class QuestionsIn(serializers.Serializer):
    questions = serializers.ListField(
        child=QuestionIn(), min_length=1, max_length=MAX_QUESTIONS, help_text="the whole list, in order"
    )


class OptionOut(serializers.Serializer):
    key = serializers.CharField()
    label_vi = serializers.CharField()
    label_en = serializers.CharField()
    label_zh = serializers.CharField()


class QuestionOut(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.ChoiceField(choices=Question.TYPES)
    required = serializers.BooleanField()
    label_vi = serializers.CharField()
    label_en = serializers.CharField()
    label_zh = serializers.CharField()
    help_vi = serializers.CharField()
    help_en = serializers.CharField()
    help_zh = serializers.CharField()
    options = OptionOut(many=True)
    min = serializers.FloatField(source="min_value", allow_null=True)
    max = serializers.FloatField(source="max_value", allow_null=True)


class RoundOut(serializers.Serializer):
    id = serializers.IntegerField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField(allow_null=True)


class FormOut(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title_vi = serializers.CharField()
    title_en = serializers.CharField()
    title_zh = serializers.CharField()
    late_policy = serializers.CharField()
    retention_days = serializers.IntegerField(allow_null=True)
    url = serializers.CharField(help_text="path of the web form page, /f/<slug>/<id>/")
    repeat = serializers.CharField()
    open_time = serializers.TimeField(allow_null=True)
    remind_time = serializers.TimeField(allow_null=True)
    questions = QuestionOut(many=True)
    round = RoundOut(allow_null=True, help_text="the round answers go to now (none before a schedule's first)")


class ResponseIn(serializers.Serializer):
    citizen_id = serializers.CharField(max_length=128, min_length=1, validators=[NOT_BLANK])
    client_id = serializers.UUIDField(help_text="made by the client once per submission: resending it is safe")
    answers = serializers.DictField(help_text="question key -> answer (string, number, boolean or list of option keys)")


class ResponseOut(serializers.Serializer):
    id = serializers.IntegerField()
    form = serializers.IntegerField(source="form_id")
    round = serializers.IntegerField(source="round_id")
    client_id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=["created", "updated", "duplicate"],
        help_text="created; updated: this person's earlier answers in the round replaced; duplicate: client id seen",
    )
    late = serializers.BooleanField(source="is_late")
    answers = serializers.DictField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class CountOut(serializers.Serializer):
    value = serializers.CharField(help_text="option key, yes/no, the number bin's start, the province code")
    label = serializers.CharField()
    count = serializers.IntegerField()


class QuestionResultOut(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.CharField()
    label = serializers.CharField()
    answered = serializers.IntegerField()
    counts = CountOut(many=True)


class ResultsOut(serializers.Serializer):
    form = serializers.IntegerField()
    round = RoundOut()
    audience = serializers.IntegerField()
    responded = serializers.IntegerField()
    questions = QuestionResultOut(many=True)


class ResultsQuery(serializers.Serializer):
    round = serializers.IntegerField(required=False, min_value=1, max_value=ID_MAX)
