"""Sign-in is rate-limited: password guessing gets slow, the owner can still get in later."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from ocr_app.models import SignInFailure

pytestmark = pytest.mark.django_db

PASSWORD = "alice-password-1"


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(client: Client) -> bool:
    return client.get(reverse("ocr_app:note_list")).status_code == 200


def test_too_many_wrong_passwords_block_the_account_for_a_while(user, settings):
    client = Client()
    for _ in range(5):
        response = sign_in(client, "alice", "guess")
        assert response.status_code == 200 and "correct username and password" in response.content.decode()
    # Now even the right password is refused, with a clear message and 429.
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in response.content.decode()
    assert not signed_in(client)
    # Also from elsewhere, and whatever the case of the name.
    assert sign_in(Client(), "ALICE", PASSWORD, address="198.51.100.1").status_code == 429

    # Once the failures are older than the window, the owner gets in, and the count starts over.
    SignInFailure.objects.update(at=SignInFailure.objects.first().at - timedelta(seconds=901))
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    assert not SignInFailure.objects.filter(username="alice").exists()


def test_a_success_clears_the_accounts_failures(user):
    client = Client()
    for _ in range(4):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert sign_in(client, "alice", "guess").status_code == 200
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_blocked(user, other_user):
    client = Client()
    for i in range(20):
        sign_in(client, f"user{i}", "guess", address="192.0.2.9")
    assert sign_in(client, "bob", "bob-password-1", address="192.0.2.9").status_code == 429
    # Bob signing in from his own address is not affected.
    assert sign_in(Client(), "bob", "bob-password-1", address="198.51.100.2").status_code == 302
