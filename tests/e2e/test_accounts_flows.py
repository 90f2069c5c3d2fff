"""The account flows people go through in a real browser: partner sign-up and vetting, a
focal point managing delegates, the Secretariat's two-factor requirement, and designating a
Member State's institutional account from the admin."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts import services
from accounts.models import Institution, Invitation, Notification, User
from tests import factories
from tests.conftest import has_totp

pytestmark = [
    pytest.mark.e2e,
    # The live server sees only committed data, so each test commits and ends in a flush;
    # tests/conftest.py's `_reference_data` fixture loads the countries etc. back.
    # (serialized_rollback would not help: while Playwright's event loop runs, Django hands
    # the test thread another connection object, one without the serialized contents.)
    pytest.mark.django_db(transaction=True),
]

Role = User.Role
PASSWORD = factories.PASSWORD
TOTP_PERIOD = 30
TOTP_SETUP = "/accounts/2fa/totp/activate/"
TOTP_SETUP_OR_REAUTH = re.compile(
    r"/accounts/(2fa/totp/activate/|reauthenticate/\?next=%2Faccounts%2F2fa%2Ftotp%2Factivate%2F)$"
)


# --- Helpers -----------------------------------------------------------------------------------


def path_of_link(body: str, marker: str) -> str:
    """The path (and query) of the first URL in ``body`` that contains ``marker``.

    E-mails carry absolute links to SITE_URL or the request's host; the browser opens the
    path on the live server instead.
    """
    match = re.search(r"https?://[^\s\"'<>]*" + re.escape(marker) + r"[^\s\"'<>]*", body)
    assert match, f"no link containing {marker!r} in:\n{body}"
    parts = urlsplit(match.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


def totp_code(secret: str, counter: int | None = None) -> str:
    """The authenticator code for ``counter``, by default the current 30-second window."""
    if counter is None:
        counters = list(yield_hotp_counters_from_time())
        counter = counters[len(counters) // 2]
    return format_hotp_value(hotp_value(secret, counter))


def fresh_totp_code(secret: str, used: set[str]) -> str:
    """A code allauth will accept now: never one already used (allauth refuses a replay
    within its period), waiting for the next 30-second window when necessary. A code is
    not used in the last second of its window, so the server sees the same window."""
    while True:
        now = time.time()
        if now % TOTP_PERIOD < TOTP_PERIOD - 1:
            code = totp_code(secret, int(now) // TOTP_PERIOD)
            if code not in used:
                return code
        time.sleep(TOTP_PERIOD - now % TOTP_PERIOD + 0.05)


def submit_password(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def submit_totp(page: Page, code: str) -> None:
    page.locator("input[name=code]").fill(code)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    # The header's button POSTs to allauth's sign-out, so there is no confirmation page.
    page.get_by_role("button", name="Sign out").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Sign in")).to_be_visible()


def messages(page: Page):
    return page.locator("ul.messages")


def staff_with_known_totp(email: str) -> tuple[User, str]:
    secret = generate_totp_secret()
    user = factories.UserFactory(email=email, role=Role.SECRETARIAT, is_staff=True)
    TOTP.activate(user, secret)
    return user, secret


# --- 1. Partner sign-up, e-mail confirmation, vetting -----------------------------------------


def fill_partner_signup(page: Page, *, website: str) -> None:
    page.goto("/accounts/signup/")
    page.locator("input[name=email]").fill("ana@fundacion-sur.example.org")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_label("Your full name").fill("Ana Sur")
    page.locator("input[name=organisation_name]").fill("Fundación del Sur")
    page.get_by_label("Kind of organisation").select_option("foundation")
    page.get_by_label("Country").select_option(label="Chile")
    page.get_by_label("Website").fill(website)
    page.get_by_role("checkbox", name="I act in good faith for this organisation").check()


def test_partner_signs_up_confirms_and_is_vetted(page: Page, live_server, secretariat):
    fill_partner_signup(page, website="https://fundacion-sur.example.org")
    page.get_by_role("button", name="Sign Up").click()

    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.locator("main")).to_contain_text("Verify Your Email Address")

    user = User.objects.get(email="ana@fundacion-sur.example.org")
    institution = user.institution
    assert user.role == Role.PARTNER
    assert user.full_name == "Ana Sur"
    assert institution.name == "Fundación del Sur"
    assert institution.type == Institution.Type.FOUNDATION
    assert institution.country.iso3 == "CHL"
    assert institution.website == "https://fundacion-sur.example.org"
    assert institution.vetting_status == Institution.Vetting.PENDING

    assert mail.outbox, "no confirmation e-mail was sent"
    confirmation = mail.outbox[-1]
    assert confirmation.to == ["ana@fundacion-sur.example.org"]
    page.goto(path_of_link(confirmation.body, "/accounts/confirm-email/"))
    expect(page.locator("main")).to_contain_text("ana@fundacion-sur.example.org")
    page.get_by_role("button", name="Confirm").click()
    expect(messages(page)).to_contain_text("You have confirmed ana@fundacion-sur.example.org")
    assert user.emailaddress_set.get().verified

    submit_password(page, "ana@fundacion-sur.example.org")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(
        page.get_by_role("heading", name="Your organisation is awaiting vetting")
    ).to_be_visible()
    expect(page.get_by_role("link", name="My institution: people and profile")).to_have_count(0)

    response = page.goto("/dashboard/institution/")
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("awaiting vetting")

    services.partner_vet(institution=institution, by=secretariat)

    response = page.goto("/dashboard/institution/")
    assert response.status == 200
    expect(page.get_by_role("heading", name="Fundación del Sur", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="Public profile")).to_be_visible()
    expect(page.get_by_role("button", name="Save profile")).to_be_visible()
    expect(page.get_by_label("Website")).to_have_value("https://fundacion-sur.example.org")

    page.goto("/dashboard/notifications/")
    expect(page.locator("ul.notifications")).to_contain_text(
        "Fundación del Sur is now a vetted partner"
    )
    assert Notification.objects.filter(
        recipient=user, kind=User.NotificationKind.PARTNER_VETTED
    ).exists()


def test_partner_may_give_the_website_without_https(page: Page):
    fill_partner_signup(page, website="fundacion-sur.example.org")
    website = page.get_by_label("Website")
    assert website.evaluate("field => field.form.noValidate || field.checkValidity()")
    page.get_by_role("button", name="Sign Up").click()
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    institution = User.objects.get(email="ana@fundacion-sur.example.org").institution
    assert institution.website == "https://fundacion-sur.example.org"


# --- 2. Focal point: sign in, invite a delegate -----------------------------------------------


def test_focal_point_signs_in_and_invites_a_delegate(page: Page, live_server, focal_point, peru):
    submit_password(page, "focal-per@example.org")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.locator("main dl.facts")).to_contain_text(peru.name)

    page.get_by_role("link", name="My institution: people and profile").click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/institution/")
    expect(page.get_by_role("heading", name="Invite a delegate")).to_be_visible()

    invite_form = page.locator("form", has=page.locator("input[name=email]"))
    invite_form.locator("input[name=email]").fill("colleague@example.org")
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(f"{live_server.url}/dashboard/institution/")
    expect(messages(page)).to_contain_text("An invitation was sent to colleague@example.org.")
    expect(page.get_by_role("heading", name="Pending invitations")).to_be_visible()
    pending = page.locator("h3:text-is('Pending invitations') + ul > li")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("colleague@example.org")
    expect(pending.get_by_role("button", name="Withdraw")).to_be_visible()
    invitation = Invitation.objects.get(email="colleague@example.org")
    assert invitation.role == Role.DELEGATE
    assert invitation.institution == peru
    assert invitation.status == Invitation.Status.PENDING
    assert mail.outbox[-1].to == ["colleague@example.org"]

    page.locator("input[name=email]").fill("not-an-email")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Send invitation").click()
    assert answer.value.status == 400
    expect(page.locator(".field.has-error")).to_contain_text("Enter a valid e-mail address")
    expect(page.locator("input[name=email]")).to_have_value("not-an-email")
    expect(messages(page)).to_have_count(0)
    expect(pending).to_have_count(1)
    assert Invitation.objects.count() == 1
    assert len(mail.outbox) == 1


def test_every_link_of_the_dashboard_opens(page: Page, live_server, focal_point):
    submit_password(page, "focal-per@example.org")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    links = page.locator("main ul.actions-list a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert "/accounts/sessions/" in hrefs
    answers = {href: page.goto(href).status for href in hrefs}
    assert {href: status for href, status in answers.items() if status >= 400} == {}


# --- 3. Staff must set up two-factor authentication --------------------------------------------


def test_staff_without_authenticator_must_set_one_up(page: Page, live_server):
    email = "new-secretariat@example.org"
    user = factories.UserFactory(email=email, role=Role.SECRETARIAT, is_staff=True)
    assert not has_totp(user)

    submit_password(page, email)
    # The sign-in lands on the dashboard, which sends staff without a second factor to the
    # TOTP set-up. allauth (65.21) first asks for the password again ("Confirm Access")
    # before an authenticator may be added, even right after signing in.
    expect(page).to_have_url(TOTP_SETUP_OR_REAUTH)
    expect(messages(page)).to_contain_text(
        "Your role requires two-factor authentication. Set up an authenticator app to continue."
    )
    if "/accounts/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(f"{live_server.url}{TOTP_SETUP}")
    expect(page.get_by_role("heading", name="Activate Authenticator App")).to_be_visible()
    for path in ("/dashboard/", "/admin/", "/staff/designations/"):
        page.goto(path)
        expect(page).to_have_url(f"{live_server.url}{TOTP_SETUP}")
        expect(messages(page)).to_contain_text("Your role requires two-factor authentication")

    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret), secret
    used = set()
    code = fresh_totp_code(secret, used)
    used.add(code)
    submit_totp(page, code)
    expect(page).not_to_have_url(re.compile(r"/totp/activate/"))
    assert has_totp(user)

    response = page.goto("/staff/designations/")
    assert response.status == 200
    expect(page.locator("main")).to_contain_text("participating Member States designated")

    sign_out(page)
    submit_password(page, email)
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    good = fresh_totp_code(secret, used)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    submit_totp(page, wrong)
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    expect(page.locator("main")).to_contain_text("Incorrect code")

    submit_totp(page, fresh_totp_code(secret, used))
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    response = page.goto("/staff/designations/")
    assert response.status == 200


# --- 4. Designation from the admin, then the focal point accepts -------------------------------


def test_secretariat_designates_an_authority_in_the_admin(page: Page, new_page, live_server):
    user, secret = staff_with_known_totp("designator@example.org")
    chile = factories.AuthorityFactory(country=factories.country("CHL"))
    assert chile.designation_status == Institution.Designation.NOT_DESIGNATED

    submit_password(page, user.email)
    expect(page).to_have_url(f"{live_server.url}/accounts/2fa/authenticate/")
    submit_totp(page, fresh_totp_code(secret, set()))
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    page.goto("/admin/accounts/institution/")
    row = page.locator("#result_list tbody tr", has_text=chile.name)
    row.get_by_role("link", name="Designate", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/admin/accounts/institution/{chile.pk}/designate/")
    page.get_by_label("Institutional mailbox").fill("cooperacion@agci.example.cl")
    page.get_by_label("Language of the invitation").select_option("es")
    page.get_by_role("button", name="Send invitation").click()

    expect(page).to_have_url(f"{live_server.url}/admin/accounts/institution/")
    expect(page.locator("ul.messagelist")).to_contain_text(
        "An invitation was sent to cooperacion@agci.example.cl"
    )
    chile.refresh_from_db()
    assert chile.designation_status == Institution.Designation.INVITED
    assert chile.mailbox == "cooperacion@agci.example.cl"
    invitation = mail.outbox[-1]
    assert invitation.to == ["cooperacion@agci.example.cl"]

    anonymous = new_page()
    anonymous.goto(path_of_link(invitation.body, "/invitation/"))
    expect(anonymous.get_by_role("heading", name="Accept your invitation")).to_be_visible()
    anonymous.locator("input[name=password1]").fill("another-long-password-2026")
    anonymous.locator("input[name=password2]").fill("another-long-password-2026")
    anonymous.get_by_role("button", name="Create my account").click()

    expect(anonymous).to_have_url(f"{live_server.url}/accounts/login/")
    expect(messages(anonymous)).to_contain_text("Your account is ready")
    focal = User.objects.get(email="cooperacion@agci.example.cl")
    assert focal.role == Role.FOCAL_POINT
    assert focal.institution == chile
    chile.refresh_from_db()
    assert chile.designation_status == Institution.Designation.DESIGNATED

    submit_password(anonymous, "cooperacion@agci.example.cl", "another-long-password-2026")
    expect(anonymous).to_have_url(f"{live_server.url}/dashboard/")
    expect(anonymous.locator("main dl.facts")).to_contain_text(chile.name)


def test_expired_invitation_link_says_so(page: Page, peru):
    invitation = factories.InvitationFactory(email="late@example.org", institution=peru)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = page.goto(invitation.get_absolute_url())
    assert response.status == 410
    expect(page.get_by_role("alert")).to_contain_text("This invitation has expired")
    expect(page.locator("input[name=password1]")).to_have_count(0)
