"""Secret prints masked everywhere a value can end up by accident."""

from __future__ import annotations

import logging
import pickle

import pytest

from harness.secrets import MASK, Secret, mask


def test_a_secret_prints_masked_in_every_form():
    secret = Secret("hunter2")
    shown = [
        str(secret),
        repr(secret),
        f"{secret}",
        f"{secret!r}",
        f"{secret:>10}",
        f"{secret}",
        f"{secret}",
        str([secret]),
        str({"p": secret}),
    ]
    assert all("hunter2" not in text for text in shown)
    assert str(secret) == MASK
    assert secret.reveal() == "hunter2"


def test_a_secret_in_a_log_record_is_masked(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger("harness.test").info(
        "password %s / %r", Secret("hunter2"), Secret("hunter2")
    )
    assert "hunter2" not in caplog.text


def test_secrets_compare_by_value_and_do_not_travel_by_pickle():
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert pickle.loads(pickle.dumps(Secret("hunter2"))).reveal() == MASK


def test_mask_removes_values_from_library_messages():
    assert mask("login hunter2 failed", [Secret("hunter2"), None]) == (
        f"login {MASK} failed"
    )


# What requests says when a host does not answer: a short password must not
# garble it, a long one is masked wherever it occurs.
REFUSED = (
    "HTTPConnectionPool(host='192.0.2.10', port=5986): Max retries exceeded "
    "with url: /wsman"
)


@pytest.mark.parametrize(
    ("secret", "text", "masked"),
    [
        ("p", REFUSED, REFUSED),
        ("5986", REFUSED, REFUSED.replace("5986", MASK)),
        ("p", "login p failed", f"login {MASK} failed"),
        ("p", "user:p@host", f"user:{MASK}@host"),
        ("pa$", "pa$s pa$ x", f"pa$s {MASK} x"),
        ("hunter2", "hunter22 hunter2", f"hunter22 {MASK}"),
        ("hunter22", "xhunter22x hunter22", f"x{MASK}x {MASK}"),
        ("Fake-Pa55&word", "a=Fake-Pa55&words", f"a={MASK}s"),
    ],
)
def test_short_secrets_are_masked_as_whole_words_long_ones_anywhere(
    secret, text, masked
):
    assert mask(text, [Secret(secret)]) == masked


def test_an_empty_secret_masks_nothing():
    assert mask(REFUSED, [Secret(""), None]) == REFUSED
