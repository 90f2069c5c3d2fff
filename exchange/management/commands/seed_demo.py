import os
import secrets

from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.core.management.base import BaseCommand, CommandError

from accounts import demo
from accounts.models import User
from exchange import demo as exchange_demo


class Command(BaseCommand):
    help = (
        "Create the demo institutions, sign-ins and catalogue (idempotent). Passwords come from "
        "--password, or are generated and printed once; the TOTP secret of the staff "
        "accounts from DEMO_TOTP_SECRET, or is generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--password", help="Password of every demo account.")

    def handle(self, *args, password=None, **options):
        explicit = password is not None
        if explicit and len(password) < 12:
            raise CommandError("The demo password must have at least 12 characters.")
        password = password or secrets.token_urlsafe(12)
        totp_given = os.environ.get("DEMO_TOTP_SECRET", "")
        try:
            totp_secret = (
                demo.check_totp_secret(totp_given) if totp_given else generate_totp_secret()
            )
            result = demo.seed(password=password, totp_secret=totp_secret, force_password=explicit)
        except demo.DemoError as error:
            raise CommandError(str(error)) from None
        secretariat = User.objects.get(email="secretariat@example.org")
        listings = exchange_demo.seed_listings(secretariat=secretariat)
        if listings:
            self.stdout.write(f"Demo listings created: {listings}")

        if not result.created and not explicit:
            self.stdout.write("Demo data already present; nothing changed.")
            return
        self.stdout.write(self.style.SUCCESS(f"Demo accounts created: {len(result.created)}"))
        for email in result.created:
            self.stdout.write(f"  {email}")
        if not explicit:
            self.stdout.write(f"Password of the new demo accounts (shown once): {password}")
        if result.totp_created and not totp_given:
            self.stdout.write(
                "TOTP secret of secretariat@ and board@ (add it to an authenticator app; "
                f"shown once): {totp_secret}"
            )
