import datetime as dt

from broadcasts.personal.plan import CHANNELS, DEFAULT_ORDER, Recipient, choose
from oa_platform import channel_types as ct

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
ALL = set(CHANNELS)


def pick(recipient, **kw):
    kw.setdefault("order", DEFAULT_ORDER)
    kw.setdefault("available", ALL)
    kw.setdefault("used_today", {})
    return choose(recipient, now=NOW, **kw)


def test_first_channel_in_the_accounts_order_that_reaches_the_person():
    follower = Recipient(phone="+84912345678", follows_inapp=True)
    assert pick(follower).channel == "inapp"
    assert pick(follower, order=["sms", "inapp"]).channel == "sms"
    assert pick(Recipient(phone="+84912345678")).channel == "zns"
    assert pick(Recipient(phone="+84912345678")).cost == 300


def test_zns_reaches_only_vietnamese_phones_sms_any_phone_priced_per_segment():
    foreign = Recipient(phone="+6591234567")
    choice = pick(foreign, segments=3)
    assert (choice.channel, choice.cost) == ("sms", 2400)
    assert pick(Recipient()).channel is None


def test_zalo_only_within_the_window_and_its_message_allowance():
    wrote = Recipient(last_inbound={"zalo": NOW - dt.timedelta(days=2)}, sent_in_window={"zalo": 1})
    assert pick(wrote).channel == "zalo"
    stale = Recipient(last_inbound={"zalo": NOW - dt.timedelta(days=8)})
    assert pick(stale).channel is None
    spent = Recipient(last_inbound={"zalo": NOW - dt.timedelta(hours=1)}, sent_in_window={"zalo": 8})
    assert pick(spent).channel is None


def test_quota_and_caps_move_to_the_next_channel_with_a_reason():
    person = Recipient(phone="+84912345678")
    quota = ct.type_for("zns").daily_quota  # the channel type's own daily quota
    assert pick(person, used_today={"zns": quota - 1}).channel == "zns"
    assert pick(person, used_today={"zns": quota}).channel == "sms"
    assert pick(person, caps={"zns": 10}, used_today={"zns": 10}).channel == "sms"  # the account's cap
    none = pick(person, caps={"zns": 10, "sms": 0}, used_today={"zns": 10})
    assert none.channel is None and "zns: daily limit 10 reached" in none.reason


def test_unconfigured_and_already_tried_channels_are_skipped():
    person = Recipient(phone="+84912345678", follows_inapp=True)
    assert pick(person, available={"sms"}).channel == "sms"
    assert pick(person, exclude=("inapp",)).channel == "zns"
    assert pick(person, exclude=("inapp", "zns")).channel == "sms"


def test_each_channel_types_declaration_is_what_the_plan_reads():
    for name, reach in CHANNELS.items():
        declared = ct.type_for(name)
        assert (reach.reaches, reach.price, reach.per_segment, reach.daily_quota) == (
            declared.reaches,
            declared.price,
            declared.per_segment,
            declared.daily_quota,
        )
        assert reach.reaches, name  # every channel a personal notice can take reaches someone
    assert ct.type_for("generic").reaches == "" and ct.type_for("webhook").reaches == ""
