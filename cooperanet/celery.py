"""The Celery application; configuration comes from the CELERY_* Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cooperanet.settings")

app = Celery("cooperanet")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
