"""WSGI entry point. A server process is production unless told otherwise."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cooperanet.settings")
os.environ.setdefault("DJANGO_ENV", "production")

application = get_wsgi_application()
