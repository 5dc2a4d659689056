"""Signed reply addresses (SPEC §5): what a link in an inbox says must keep meaning the same, and
nothing but our own, untouched address may verify."""

from __future__ import annotations

import base64

import pytest

from mailbot.core.model import Action
from mailbot.tokens import ACTION_CODES, KIND_CODES, MAC_BYTES, Signer, Token

SECRET = b"golden-secret-0123456789abcdef"
SIGNER = Signer(SECRET, "bot", "bot.example")

# Addresses already sent stay valid: these were produced by the code in use when the codes were
# made explicit. A change here breaks every link in people's inboxes.
GOLDEN = [
    (Token("buyer", 42, Action.EXTEND), "bot+aacaaaaaaaacvabuo3xuweeijeacw@bot.example"),
    (Token("merchant", 7, Action.REFUND_NONE), "bot+aeeqaaaaaaaap4yggp22fjnsdth4w@bot.example"),
    (Token("bounce", 123456), "bot+amaaaaaaahreburjmueez5w5p7xrk@bot.example"),
    (Token("operator", 1), "bot+aiaaaaaaaaaacbxcnga4fxwst7lg2@bot.example"),
    (Token("buyer", 42, Action.DISAGREE), "bot+aahaaaaaaaacujlrxnbj3hs6zrhke@bot.example"),
]


@pytest.mark.parametrize("token, address", GOLDEN)
def test_golden_addresses(token, address):
    assert SIGNER.address(token) == address
    assert SIGNER.parse(address) == token


def test_codes_are_the_append_only_table():
    assert KIND_CODES == {"buyer": 0, "merchant": 1, "operator": 2, "bounce": 3, "intake": 4}
    assert set(ACTION_CODES) == set(Action), "every action needs its own, new code"
    assert sorted(ACTION_CODES.values()) == list(range(1, len(Action) + 1))
    assert ACTION_CODES[Action.ALL_FINE] == 1 and ACTION_CODES[Action.DISAGREE] == 14


@pytest.mark.parametrize("kind", sorted(KIND_CODES))
@pytest.mark.parametrize("action", [None, *Action])
def test_every_token_round_trips(kind, action):
    token = Token(kind, 2**48 - 1, action)
    address = SIGNER.address(token)
    local = address.partition("@")[0]
    assert len(local) <= 64  # RFC 5321 §4.5.3.1.1
    assert local == local.lower()
    assert SIGNER.parse(address) == token
    # MTAs may change the case of a local part; base32 does not care.
    assert SIGNER.parse(address.upper()) == token
    assert SIGNER.parse(f" <{address}> ") == token


def test_an_address_in_capitals_whose_prefix_and_domain_start_and_end_with_x():
    """Only spaces and angle brackets around an address are dropped, never a letter of it."""
    signer = Signer(SECRET, "xpress", "shop.example.lux")
    token = Token("buyer", 42, Action.EXTEND)
    address = signer.address(token)
    assert address.upper().startswith("XPRESS+") and address.upper().endswith(".LUX")
    assert signer.parse(address.upper()) == token
    assert signer.parse(f"<{address.upper()}>") == token


def test_local_part_fits_for_a_34_character_prefix():
    signer = Signer(SECRET, "p" * 34, "bot.example")
    address = signer.address(Token("merchant", 2**48 - 1, Action.REFUND_AFTER_RETURN))
    assert len(address.partition("@")[0]) == 64
    assert signer.parse(address) is not None


def test_prefix_and_domain_are_matched_without_case():
    signer = Signer(SECRET, "Bot", "Bot.Example")
    address = signer.address(Token("buyer", 5))
    assert address.startswith("bot+") and address.endswith("@bot.example")
    assert signer.parse(address) == Token("buyer", 5)


ADDRESS = GOLDEN[0][1]
LOCAL, DOMAIN = ADDRESS.split("@")
TEXT = LOCAL.partition("+")[2]


@pytest.mark.parametrize("address", [
    f"{LOCAL}@other.example",  # foreign domain
    f"{LOCAL}@bot.example.evil",
    f"shop+{TEXT}@{DOMAIN}",  # foreign prefix
    f"bots+{TEXT}@{DOMAIN}",
    f"bot{TEXT}@{DOMAIN}",  # no plus
    f"bot-{TEXT}@{DOMAIN}",
    f"{LOCAL}",  # no domain
    f"bot+@{DOMAIN}",  # no token
    f"bot+{TEXT[:-1]}@{DOMAIN}",  # truncated
    f"bot+{TEXT[:-2]}@{DOMAIN}",
    f"bot+{TEXT[:16]}@{DOMAIN}",
    f"bot+{TEXT}a@{DOMAIN}",  # too long
    f"bot+{TEXT}aaaaaaaa@{DOMAIN}",
    f"bot+{TEXT[:-1]}1@{DOMAIN}",  # not base32
    f"bot+{TEXT[:-1]}!@{DOMAIN}",
    f"bot+{TEXT}=@{DOMAIN}",  # padding
    f"bot+{TEXT[:-1]}é@{DOMAIN}",  # not ASCII
])
def test_addresses_that_are_not_ours_do_not_verify(address):
    assert SIGNER.parse(address) is None


def test_another_secret_does_not_verify():
    assert Signer(b"another secret", "bot", "bot.example").parse(ADDRESS) is None


def _raw(address: str) -> bytes:
    text = address.split("+")[1].split("@")[0].upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _address(raw: bytes) -> str:
    return "bot+" + base64.b32encode(raw).decode().rstrip("=").lower() + "@bot.example"


def test_every_single_bit_flip_is_refused():
    raw = _raw(ADDRESS)
    assert _address(raw) == ADDRESS
    for i in range(len(raw) * 8):
        flipped = bytearray(raw)
        flipped[i // 8] ^= 1 << (i % 8)
        assert SIGNER.parse(_address(bytes(flipped))) is None, i


def test_every_changed_character_is_refused():
    for i, char in enumerate(TEXT):
        for other in "abcdefghijklmnopqrstuvwxyz234567":
            if other != char:
                changed = TEXT[:i] + other + TEXT[i + 1:]
                # Also in the last character, whose 3 low bits base32 decoding would ignore:
                # only the one spelling we write verifies.
                assert SIGNER.parse(f"bot+{changed}@{DOMAIN}") is None, (i, other)


@pytest.mark.parametrize("body", [
    bytes([len(KIND_CODES), 0]) + (1).to_bytes(6, "big"),  # unknown kind, validly signed
    bytes([0, len(ACTION_CODES) + 1]) + (1).to_bytes(6, "big"),  # unknown action code
    bytes([255, 255]) + (1).to_bytes(6, "big"),
])
def test_signed_but_unknown_codes_are_refused(body):
    raw = body + SIGNER._mac(body)
    assert len(raw) == 8 + MAC_BYTES
    assert SIGNER.parse(_address(raw)) is None


def test_signed_known_codes_parse():
    body = bytes([1, ACTION_CODES[Action.REFUND_FULL]]) + (77).to_bytes(6, "big")
    assert SIGNER.parse(_address(body + SIGNER._mac(body))) == Token(
        "merchant", 77, Action.REFUND_FULL)
