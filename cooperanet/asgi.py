"""ASGI entry point. A server process is production unless told otherwise."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cooperanet.settings")
os.environ.setdefault("DJANGO_ENV", "production")

application = get_asgi_application()
