"""The PCI scanner as a pure rule (SPEC §10, seed 004): Luhn-valid runs of 13 to 19 digits with
single spaces or dashes are found wherever they stand, runs failing Luhn are not, masking keeps
none of the digits, PII patterns are masked whole, and screening a draft masks (REDACT) or refuses
(DROP) — withholding attachments that violate the policy — without ever quoting the match."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.configuration.policies import PciPolicy
from domain.errors import ErrorCode, Rejected
from domain.messaging import pci
from domain.messaging.message import Attachment, MessageDraft

VISA = "4111111111111111"
FULLWIDTH_ZERO = 0xFF10
digits = st.text(alphabet="0123456789", min_size=1, max_size=1)


def with_check_digit(payload: str) -> str:
    for check in "0123456789":
        if pci.luhn_valid(payload + check):
            return payload + check
    raise AssertionError("some check digit always completes a Luhn number")


card_numbers = (
    st.integers(min_value=12, max_value=18)
    .flatmap(lambda length: st.text(alphabet="0123456789", min_size=length, max_size=length))
    .map(with_check_digit)
)
separators = st.sampled_from(["", " ", "-"])
# Text around a number that does not extend its run of digits.
surroundings = st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=12).filter(
    lambda text: (
        "*" not in text and not text.endswith((" ", "-")) and not text.startswith((" ", "-"))
    )
)


@st.composite
def separated(draw: st.DrawFn, number: str) -> str:
    """``number`` with a single random separator (or none) between any two digits."""
    out = number[0]
    for digit in number[1:]:
        out += draw(separators) + digit
    return out


@given(number=card_numbers, data=st.data(), before=surroundings, after=surroundings)
def test_every_valid_card_number_is_found_and_masked_however_it_is_separated(
    number: str, data: st.DataObject, before: str, after: str
) -> None:
    typed = data.draw(separated(number))
    text = f"{before}{typed}{after}"
    masked = pci.mask_all(text)
    assert not any(ch.isdigit() for ch in masked[len(before) : len(before) + len(typed)])
    assert masked.replace("*", "") == text.translate(str.maketrans("", "", "0123456789"))
    assert number not in masked.replace(" ", "").replace("-", "")


@given(number=card_numbers.map(lambda n: n[:-1] + str((int(n[-1]) + 1) % 10)))
def test_a_run_failing_luhn_is_left_alone(number: str) -> None:
    assert not pci.luhn_valid(number)
    assert pci.card_spans(f"order {number} placed") == []


@given(run=st.text(alphabet="0123456789", min_size=1, max_size=12), data=st.data())
def test_fewer_than_13_digits_are_never_a_card(run: str, data: st.DataObject) -> None:
    assert pci.card_spans(data.draw(separated(run))) == []


@given(run=st.text(alphabet="0123456789", min_size=20, max_size=40))
def test_a_long_unseparated_number_is_one_id_not_a_card(run: str) -> None:
    assert pci.card_spans(f"tracking {run}") == []


def test_a_card_typed_with_its_security_code_behind_it_is_still_found() -> None:
    masked = pci.mask_all(f"Karte {' '.join(VISA[i : i + 4] for i in range(0, 16, 4))} 123")
    assert masked == "Karte **** **** **** **** 123"


def test_separators_other_than_single_spaces_or_dashes_end_a_run() -> None:
    assert pci.card_spans("4111  1111 1111 1111") == []
    assert pci.card_spans("4111.1111.1111.1111") == []


def test_pii_patterns_are_masked_whole_and_in_every_part_of_a_draft() -> None:
    draft = MessageDraft(text="IBAN DE89370400440532013000", subject="DE89370400440532013000")
    screened = pci.screen(draft, PciPolicy.REDACT, [r"DE\d{20}"])
    assert screened.draft.text == "IBAN " + "*" * 22
    assert screened.draft.subject == "*" * 22
    assert screened.redacted


def test_redact_withholds_violating_attachments_and_keeps_the_others() -> None:
    bad = Attachment(name=f"card-{VISA}.png", media_type="image/png", size=10, url="https://x/1")
    url = Attachment(name="scan.png", media_type="image/png", size=10, url=f"https://x/?c={VISA}")
    good = Attachment(name="invoice.pdf", media_type="application/pdf", size=10, url="https://x/3")
    screened = pci.screen(
        MessageDraft(text="files", attachments=(bad, url, good)), PciPolicy.REDACT
    )
    assert screened.draft.attachments == (good,)
    assert (screened.withheld_attachments, screened.redacted, screened.draft.text) == (
        2,
        True,
        "files",
    )


@pytest.mark.parametrize(
    "draft",
    [
        MessageDraft(text=f"pay with {VISA}"),
        MessageDraft(text="ok", html=f"<p>{VISA}</p>"),
        MessageDraft(
            text="ok",
            attachments=(
                Attachment(name=f"{VISA}.pdf", media_type="a/b", size=1, url="https://x"),
            ),
        ),
    ],
)
def test_drop_refuses_without_quoting_the_match(draft: MessageDraft) -> None:
    with pytest.raises(Rejected) as refused:
        pci.screen(draft, PciPolicy.DROP)
    assert refused.value.code is ErrorCode.PCI_VIOLATION
    assert VISA not in refused.value.message
    assert not any(ch.isdigit() for ch in refused.value.message)


def test_a_clean_draft_passes_unchanged() -> None:
    draft = MessageDraft(text="order 12345 ships today")
    assert pci.screen(draft, PciPolicy.DROP) == pci.Screened(draft, redacted=False)


@given(number=card_numbers)
def test_unicode_digits_are_digits_too(number: str) -> None:
    fullwidth = "".join(chr(FULLWIDTH_ZERO + int(d)) for d in number)
    assume(len(number) >= 13)
    assert pci.mask_all(fullwidth) == "*" * len(number)
