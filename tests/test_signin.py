"""Sign-in is rate-limited on every door: password guessing gets slow, the owner can still get in."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.backends import ModelBackend
from django.db import connections
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from ocr_app.models import SignInLimit

pytestmark = pytest.mark.django_db

PASSWORD = "alice-password-1"


class Clock:
    """``timezone.now`` as the test says: waits never depend on the machine's speed."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr("django.utils.timezone.now", lambda: fake.now)
    return fake


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7", path=None, **headers):
    return client.post(
        path or reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def signed_in(client: Client) -> bool:
    return client.get(reverse("ocr_app:note_list")).status_code == 200


def is_wrong_password(response) -> bool:
    return response.status_code == 200 and "correct username and password" in response.content.decode()


def refused(response, wait: str | None = None) -> bool:
    text = response.content.decode()
    return response.status_code == 429 and (wait is None or f"Too many failed sign-ins. Try again in {wait}." in text)


def test_wrong_passwords_from_one_address_make_it_wait_longer_each_time(user, clock, settings):
    settings.INKDEX = {**settings.INKDEX, "SIGNIN_MAX_DELAY_SECONDS": 8}
    client = Client()
    for _ in range(5):
        assert is_wrong_password(sign_in(client, "alice", "guess"))
    # Now even the right password is refused, with a clear message, 429 and Retry-After.
    response = sign_in(client, "alice", PASSWORD)
    assert refused(response, "1 second") and response["Retry-After"] == "1"
    assert not signed_in(client)
    clock.advance(1)
    # Each further failure doubles the wait, up to the longest wait.
    for wait in (2, 4, 8, 8):
        assert is_wrong_password(sign_in(client, "alice", "guess"))
        assert refused(sign_in(client, "ALICE", PASSWORD), f"{wait} seconds")
        clock.advance(wait - 1)
        assert refused(sign_in(client, "alice", PASSWORD), "1 second")
        clock.advance(1)
    # Once the wait is over the owner gets in, and the count starts over.
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302 and signed_in(client)
    client.logout()
    for _ in range(5):
        assert is_wrong_password(sign_in(client, "alice", "guess"))


def test_the_guessing_address_waits_not_the_owner_elsewhere(user, clock):
    for _ in range(5):
        sign_in(Client(), "alice", "guess")
    assert refused(sign_in(Client(), "alice", PASSWORD))
    # The owner, at home, is not kept out by someone guessing elsewhere.
    owner = Client()
    assert sign_in(owner, "alice", PASSWORD, address="198.51.100.1").status_code == 302 and signed_in(owner)
    # ...and her sign-in does not free the guesser.
    assert refused(sign_in(Client(), "alice", "guess"))


def test_a_success_clears_the_accounts_failures(user, clock):
    client = Client()
    for _ in range(4):
        sign_in(client, "alice", "guess")
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        assert is_wrong_password(sign_in(client, "alice", "guess"))
    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_a_blocked_address_makes_no_counters_for_the_names_it_tries(user, clock):
    for i in range(20):
        sign_in(Client(), f"user{i}", "guess", address="192.0.2.9")
    rows = SignInLimit.objects.count()
    for i in range(50):
        assert refused(sign_in(Client(), f"made-up-{i}", "guess", address="192.0.2.9"), "15 minutes")
    assert SignInLimit.objects.count() == rows


def test_one_address_guessing_many_accounts_is_blocked_for_a_while(user, other_user, clock):
    client = Client()
    for i in range(20):
        assert is_wrong_password(sign_in(client, f"user{i}", "guess", address="192.0.2.9"))
    assert refused(sign_in(client, "bob", "bob-password-1", address="192.0.2.9"), "15 minutes")
    # Bob signing in from his own address is not affected.
    assert sign_in(Client(), "bob", "bob-password-1", address="198.51.100.2").status_code == 302
    # Signing in to an account of one's own does not reset the address's count.
    clock.advance(15 * 60)
    assert sign_in(Client(), "bob", "bob-password-1", address="192.0.2.9").status_code == 302
    for i in range(19):
        sign_in(Client(), f"user{i}", "guess", address="192.0.2.9")
    assert sign_in(Client(), "bob", "bob-password-1", address="192.0.2.9").status_code == 302
    assert is_wrong_password(sign_in(Client(), "user19", "guess", address="192.0.2.9"))
    assert refused(sign_in(Client(), "bob", "bob-password-1", address="192.0.2.9"), "15 minutes")


def test_the_admin_login_counts_the_same_failures(staff_user, clock):
    admin_login = reverse("admin:login")
    client = Client()
    for _ in range(8):
        sign_in(client, "sam", "guess", path=admin_login)
    response = sign_in(client, "sam", "sam-password-1", path=admin_login)
    assert refused(response, "1 second")
    assert client.get(reverse("admin:index")).status_code == 302  # not signed in
    # One count for both doors: failures on the sign-in page hold on the admin's and back.
    clock.advance(3600)
    other = Client()
    for _ in range(3):
        sign_in(other, "sam", "guess", address="192.0.2.50")
    for _ in range(2):
        sign_in(other, "sam", "guess", address="192.0.2.50", path=admin_login)
    assert refused(sign_in(other, "sam", "sam-password-1", address="192.0.2.50", path=admin_login), "1 second")
    assert refused(sign_in(other, "sam", "sam-password-1", address="192.0.2.50"), "1 second")


def test_authenticate_itself_is_limited(user, clock):
    """Any future door calling ``authenticate()`` cannot forget the limits."""
    request = RequestFactory().post("/somewhere/", REMOTE_ADDR="203.0.113.7")
    for _ in range(5):
        assert authenticate(request, username="alice", password="guess") is None
    assert authenticate(request, username="alice", password=PASSWORD) is None
    clock.advance(1)
    assert authenticate(request, username="alice", password=PASSWORD) == user


def test_sessions_from_before_the_limits_stay_signed_in(user):
    """Sessions name the backend that signed them in; an upgrade must not sign everyone out."""
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    assert signed_in(client)


def test_a_wrong_password_is_checked_once_and_only_behind_the_limits(user, clock):
    request = RequestFactory().post("/somewhere/", REMOTE_ADDR="203.0.113.7")
    with mock.patch.object(ModelBackend, "authenticate", autospec=True, side_effect=ModelBackend.authenticate) as check:
        assert authenticate(request, username="alice", password="guess") is None
    assert check.call_count == 1


def test_look_alike_names_count_as_the_one_account_they_sign_in_to(user, clock, django_user_model):
    victim = django_user_model.objects.create_user("victim", password="victim-password-1")
    look_alikes = ["ｖｉｃｔｉｍ", "𝐯𝐢𝐜𝐭𝐢𝐦", "ⓥⓘⓒⓣⓘⓜ"]
    # Each signs in as victim, as Django normalises user names (NFKC)...
    for name in look_alikes:
        client = Client()
        assert sign_in(client, name, "victim-password-1").status_code == 302
        assert client.session["_auth_user_id"] == str(victim.pk)
    # ...so failures under all of them count for that one account.
    for name in look_alikes + look_alikes[:2]:
        assert is_wrong_password(sign_in(Client(), name, "guess"))
    assert refused(sign_in(Client(), "victim", "victim-password-1"), "1 second")
    assert refused(sign_in(Client(), look_alikes[2], "victim-password-1"), "1 second")


def test_an_account_guessed_from_many_addresses_waits_but_never_long(user, clock):
    # One failure from each of many addresses: no address reaches its own limit.
    addresses = (f"192.0.2.{i}" for i in range(1, 250))
    for _ in range(10):
        assert is_wrong_password(sign_in(Client(), "alice", "guess", address=next(addresses)))
    assert refused(sign_in(Client(), "alice", "guess", address=next(addresses)), "1 second")
    # The wait grows with each failure, but never beyond a minute.
    for _ in range(20):
        clock.advance(60)
        assert is_wrong_password(sign_in(Client(), "alice", "guess", address=next(addresses)))
    assert refused(sign_in(Client(), "alice", PASSWORD, address=next(addresses)), "1 minute")
    clock.advance(59)
    assert refused(sign_in(Client(), "alice", PASSWORD, address="198.51.100.1"), "1 second")
    # The owner gets in after that bounded wait, and her success clears the account's wait.
    clock.advance(1)
    owner = Client()
    assert sign_in(owner, "alice", PASSWORD, address="198.51.100.1").status_code == 302 and signed_in(owner)
    assert is_wrong_password(sign_in(Client(), "alice", "guess", address=next(addresses)))
    assert sign_in(Client(), "alice", PASSWORD, address=next(addresses)).status_code == 302


def test_the_owner_is_not_held_at_an_address_she_signed_in_from(user, clock):
    assert sign_in(Client(), "alice", PASSWORD, address="198.51.100.1").status_code == 302
    for i in range(30):
        clock.advance(61)
        assert is_wrong_password(sign_in(Client(), "alice", "guess", address=f"192.0.2.{i}"))
    assert refused(sign_in(Client(), "alice", "guess", address="192.0.2.200"))
    # However often attackers take the account's next try, the owner's known address needs none.
    assert sign_in(Client(), "alice", PASSWORD, address="198.51.100.1").status_code == 302


def test_failures_are_forgotten_after_a_quiet_day(user, clock):
    for _ in range(5):
        sign_in(Client(), "alice", "guess")
    clock.advance(24 * 3600)
    for _ in range(4):
        assert is_wrong_password(sign_in(Client(), "alice", "guess"))
    assert SignInLimit.objects.get(scope="account_address").failures == 4


def test_behind_a_proxy_each_client_is_counted_apart(user, other_user, clock, settings):
    settings.INKDEX = {**settings.INKDEX, "CLIENT_IP_HEADER": "X-Forwarded-For", "TRUSTED_PROXY_COUNT": 1}
    proxy = "127.0.0.1"
    for i in range(20):
        # What the client itself puts in the header is not believed, only what the proxy added.
        forwarded = f"10.0.0.{i}, 192.0.2.66"
        assert is_wrong_password(sign_in(Client(), f"user{i}", "guess", address=proxy, HTTP_X_FORWARDED_FOR=forwarded))
    assert refused(sign_in(Client(), "bob", "bob-password-1", address=proxy, HTTP_X_FORWARDED_FOR="192.0.2.66"))
    # Everyone else, behind the same proxy, signs in.
    client = Client()
    response = sign_in(client, "bob", "bob-password-1", address=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert response.status_code == 302 and signed_in(client)


def test_the_client_address_header_is_ignored_unless_configured(user, other_user, clock):
    for i in range(20):
        sign_in(Client(), f"user{i}", "guess", address="192.0.2.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert refused(sign_in(Client(), "bob", "bob-password-1", address="192.0.2.9", HTTP_X_FORWARDED_FOR="198.51.100.99"))


def test_ipv6_addresses_count_by_their_64_network(user, other_user, clock):
    for i in range(20):
        assert is_wrong_password(sign_in(Client(), f"user{i}", "guess", address=f"2001:db8:1:2::{i + 1:x}"))
    assert refused(sign_in(Client(), "bob", "bob-password-1", address="2001:db8:1:2:ffff:ffff:ffff:ffff"))
    assert sign_in(Client(), "bob", "bob-password-1", address="2001:db8:1:3::1").status_code == 302


@pytest.mark.parametrize(
    ("meta", "proxies", "group"),
    [
        ({"REMOTE_ADDR": "203.0.113.7"}, 0, "203.0.113.7"),
        ({"REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, 0, "203.0.113.7"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, 1, "192.0.2.1"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 192.0.2.1, 10.0.0.2"}, 2, "192.0.2.1"),
        # A header with fewer entries than proxies, or rubbish, falls back to the proxy's address.
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, 2, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "not-an-address"}, 1, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1"}, 1, "127.0.0.1"),
        ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "[2001:db8::7]:4431"}, 1, "2001:db8::/64"),
        ({"REMOTE_ADDR": "::ffff:192.0.2.5"}, 0, "192.0.2.5"),
        ({"REMOTE_ADDR": "2001:db8:a:b:c:d:e:f"}, 0, "2001:db8:a:b::/64"),
        ({}, 0, "unknown"),
    ],
)
def test_client_address_groups(meta, proxies, group, settings):
    from ocr_app.services.client_address import client_address_group

    settings.INKDEX = {
        **settings.INKDEX, "CLIENT_IP_HEADER": "X-Forwarded-For" if proxies else "", "TRUSTED_PROXY_COUNT": proxies or 1,
    }
    request = RequestFactory().get("/")
    request.META.pop("REMOTE_ADDR", None)
    request.META.update(meta)
    assert client_address_group(request) == group


def test_staff_see_current_blocks_in_the_admin_and_can_clear_them(user, django_user_model, clock):
    from ocr_app.models import SignInLimit

    for _ in range(6):
        sign_in(Client(), "alice", "guess")
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")
    staff = Client()
    staff.force_login(admin)
    changelist = reverse("admin:ocr_app_signinlimit_changelist")
    page = staff.get(changelist, {"state": "blocked"}).content.decode()
    assert "account alice from 203.0.113.7" in page
    assert "address 203.0.113.7" not in page  # 5 failures do not block the address
    blocked = SignInLimit.objects.filter(scope="account_address", account="alice")
    response = staff.post(changelist, {"action": "clear_signin_limits", "_selected_action": [blocked.get().pk]})
    assert response.status_code == 302
    assert sign_in(Client(), "alice", PASSWORD).status_code == 302


def _sign_in_in_parallel(tries: list[tuple[str, str]]) -> tuple[list[int], list[str]]:
    """Run the tries at once, each in its own thread and database connection.

    Every try that reaches the password check is held there until all have
    either reached it or been refused: a limit that counted only after checking
    would let every one of them through.
    """
    checked: list[str] = []
    statuses: list[int] = []
    lock = threading.Lock()
    decided = threading.Semaphore(0)
    all_decided = threading.Event()
    check_password = ModelBackend.authenticate

    def held_check(self, request, username=None, password=None, **kwargs):
        with lock:
            checked.append(username)
        decided.release()
        assert all_decided.wait(120), "the other tries never got decided"
        return check_password(self, request, username=username, password=password, **kwargs)

    def attempt(username: str, address: str) -> None:
        try:
            response = sign_in(Client(), username, "guess", address=address)
            with lock:
                statuses.append(response.status_code)
            if response.status_code == 429:
                decided.release()
        finally:
            connections.close_all()

    with mock.patch.object(ModelBackend, "authenticate", held_check):
        threads = [threading.Thread(target=attempt, args=try_) for try_ in tries]
        for thread in threads:
            thread.start()
        for _ in tries:
            assert decided.acquire(timeout=120), "a try neither reached the check nor was refused"
        all_decided.set()
        for thread in threads:
            thread.join()
    return sorted(statuses), checked


@pytest.mark.django_db(transaction=True)
def test_parallel_tries_cannot_slip_past_the_count(user, clock):
    statuses, checked = _sign_in_in_parallel([("alice", "203.0.113.7")] * 12)
    assert len(checked) == 5
    assert statuses == [200] * 5 + [429] * 7


@pytest.mark.django_db(transaction=True)
def test_parallel_tries_from_one_address_cannot_slip_past_its_count(clock):
    statuses, checked = _sign_in_in_parallel([(f"user{i}", "192.0.2.9") for i in range(25)])
    assert len(checked) == 20
    assert statuses == [200] * 20 + [429] * 5


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_refused_sign_in_says_how_long_to_wait_on_a_phone(open_browsing, user, clock, shots):
    session = open_browsing({"width": 390, "height": 844})
    page = session.page
    page.goto("/accounts/login/")

    def submit(password: str) -> None:
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.keyboard.press("Enter")

    for _ in range(5):
        submit("guess")
        assert "correct username and password" in page.get_by_role("alert").inner_text()
    submit(PASSWORD)
    assert page.get_by_role("alert").inner_text() == "Too many failed sign-ins. Try again in 1 second."
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=shots / "signin-refused-390.png", full_page=True)
    assert "/accounts/login/" in page.url
    # The browser reports the 429 as a failed load; here it is what the test expects.
    session.errors[:] = [error for error in session.errors if "status of 429" not in error]
