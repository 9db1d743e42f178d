"""HTTP chat API for channel integrations: POST /api/v1/accounts/<slug>/messages/."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from oa_platform.conversations.engine import chat_rate_check, chat_receive
from oa_platform.models import ApiToken, Citizen
from oa_platform.schema import NOT_BLANK
from oa_platform.services import citizen_conversation_get_or_create


class ChatMessageIn(serializers.Serializer):
    citizen_id = serializers.CharField(max_length=128, min_length=1, validators=[NOT_BLANK])
    text = serializers.CharField(
        max_length=settings.CHAT_MAX_TEXT, min_length=1, trim_whitespace=True, validators=[NOT_BLANK]
    )
    display_name = serializers.CharField(max_length=120, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=["vi", "en", "zh-hans"], required=False)


class SuggestionOut(serializers.Serializer):
    faq = serializers.CharField()
    question = serializers.CharField()


class ReferralOut(serializers.Serializer):
    account = serializers.CharField(help_text="slug of the account that handles the question")
    name = serializers.CharField()
    url = serializers.CharField(help_text="path of that account's page, /oa/<slug>/")


class ReplyOut(serializers.Serializer):
    text = serializers.CharField()
    decision = serializers.ChoiceField(choices=["answer", "suggest", "fallback"])
    faq = serializers.CharField(allow_null=True)
    score = serializers.FloatField()
    suggestions = SuggestionOut(many=True)
    referral = ReferralOut(
        required=False,
        help_text="on a fallback: another account of the platform, in the same language, whose FAQ answers it",
    )


class ConversationOut(serializers.Serializer):
    status = serializers.CharField()


class ChatMessageOut(serializers.Serializer):
    reply = ReplyOut(allow_null=True, help_text="null while a person has taken the conversation over")
    conversation = ConversationOut(required=False, help_text="only when reply is null")


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")


# A plain sync view: under ASGI Django runs each request's sync code on a thread of that request's own (every
# middleware is async-capable, tests/oa_platform/test_asgi.py), so chat requests waiting on PostgreSQL do not queue
# behind each other, and Django returns the connection to the pool when the request finishes. (The docstring
# would become the endpoint's OpenAPI description, hence a comment.)
class ChatMessagesView(APIView):
    required_scope = ApiToken.SCOPE_CHAT

    @extend_schema(
        request=ChatMessageIn,
        responses={
            200: ChatMessageOut,
            429: OpenApiResponse(description="flooding: too many messages; wait Retry-After seconds"),
        },
        summary="Send a citizen's message and get the bot's reply",
    )
    def post(self, request, slug: str):
        data = ChatMessageIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        account = request.auth.account
        chat_rate_check(ip=client_ip(request), citizen_key=f"{account.pk}:{values['citizen_id']}")
        citizen, conversation = citizen_conversation_get_or_create(
            account=account,
            channel=Citizen.CHANNEL_WEB,
            external_id=values["citizen_id"],
            display_name=values.get("display_name", ""),
            language=values.get("language"),
            phone=values.get("phone") or None,
        )
        outcome = chat_receive(
            account=account,
            citizen=citizen,
            text=values["text"],
            conversation=conversation,
            language=values.get("language"),
        )
        body = {"reply": outcome.payload}
        if outcome.payload is None:
            body["conversation"] = {"status": outcome.inbound.conversation.status}
        return Response(body, status=status.HTTP_200_OK)
