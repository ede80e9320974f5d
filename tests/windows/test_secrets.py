"""Secret prints masked everywhere a value can end up by accident."""

from __future__ import annotations

import logging
import pickle

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
