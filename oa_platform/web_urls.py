"""The citizen page of one account; included at /oa/<slug>/."""

from django.urls import path

from oa_platform import views

urlpatterns = [
    path("", views.account_page, name="oa-page"),
    path("messages/", views.api_message, name="oa-messages"),
    path("history/", views.api_history, name="oa-history"),
    path("follow/", views.api_follow, name="oa-follow"),
    path("unfollow/", views.api_unfollow, name="oa-unfollow"),
    path("subscriptions/", views.api_subscriptions, name="oa-subscriptions"),
    path("profile/", views.api_profile, name="oa-profile"),
    path("feedback/", views.api_feedback, name="oa-feedback"),
    path("inbox/", views.api_inbox, name="oa-inbox"),
    path("areas/", views.api_areas, name="oa-areas"),
    path("handoff/withdraw/", views.api_handoff_withdraw, name="oa-handoff-withdraw"),
]
