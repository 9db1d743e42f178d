"""Phone numbers: E.164 normalisation (Vietnamese default) and masking for staff."""

import pytest

from oa_platform.phones import InvalidPhone, mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("091 234 5678", "+84912345678"),
        ("091-234-5678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("(028) 3829 6052", "+842838296052"),
        ("+1 650 253 0000", "+16502530000"),
        ("  0912345678  ", "+84912345678"),
    ],
)
def test_normalize(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "   ", None])
def test_empty_is_empty(raw):
    assert normalize_phone(raw) == ""


@pytest.mark.parametrize("raw", ["abc", "123", "09123", "+84 000", "0" * 33, "+84912345678999999"])
def test_invalid(raw):
    with pytest.raises(InvalidPhone):
        normalize_phone(raw)


def test_other_region():
    assert normalize_phone("650 253 0000", region="US") == "+16502530000"


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+84912345678", "+84******678"),
        ("+842838296052", "+84*******052"),
        ("+16502530000", "+1*******000"),
        ("", ""),
    ],
)
def test_mask_keeps_country_and_last_three(e164, masked):
    assert mask_phone(e164) == masked


def test_mask_never_contains_the_hidden_digits():
    masked = mask_phone("+84912345678")
    assert "912345" not in masked and masked.endswith("678") and len(masked) == len("+84912345678")


def test_mask_short_values_fully():
    assert mask_phone("+1234") == "****"


def test_phones_in_a_provider_payload_are_masked_and_ids_and_times_are_kept():
    from oa_platform.phones import mask_phones_in

    payload = {
        "citizen_id": "+84901234567",
        "profile": {"phone": "0912 345 678", "display_name": "Lan"},
        "text": "gọi lại cho tôi số 13812345678 nhé",
        "sender_phone": "12",
        "timestamp": "1764000000000",
        "message": {"msg_id": "1234567890123", "attachments": [{"payload": "091-234-5678"}]},
        "count": 3,
        "zalo_phone": 84912345678,
    }
    assert mask_phones_in(payload) == {
        "citizen_id": "+84******567",
        "profile": {"phone": "+84******678", "display_name": "Lan"},
        "text": "gọi lại cho tôi số ********678 nhé",
        "sender_phone": "12",
        "timestamp": "1764000000000",
        "message": {"msg_id": "1234567890123", "attachments": [{"payload": "+84******678"}]},
        "count": 3,
        "zalo_phone": "+84******678",
    }
