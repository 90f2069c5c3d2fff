"""The exchange's daily tasks, run by a real worker through the broker, as beat sends them."""

from __future__ import annotations

import datetime
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from accounts.models import Notification
from cooperanet.celery import app
from exchange.models import Listing
from exchange.tasks import task_expire_listings, task_remind_review
from tests import factories


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_expires_and_reminds(settings, peru, focal_point):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    try:
        today = timezone.localdate()
        passed = factories.ListingFactory(
            institution=peru, review_by=today - datetime.timedelta(days=1)
        )
        due = factories.ListingFactory(
            institution=peru, title="Pronto", review_by=today + datetime.timedelta(days=10)
        )
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            task_expire_listings.delay()
            task_remind_review.delay()
            _wait_for(
                lambda: (
                    Notification.objects.filter(
                        kind__in=["listing_expired", "listing_review_due"],
                        email_status=Notification.EmailStatus.SENT,
                    ).count()
                    == 2
                )
            )
        passed.refresh_from_db()
        assert passed.status == Listing.Status.EXPIRED
        reminder = Notification.objects.get(kind="listing_review_due")
        assert (reminder.recipient, reminder.url) == (focal_point, due.get_absolute_url())
        assert sorted(message.to[0] for message in mail.outbox) == [focal_point.email] * 2
    finally:
        app.conf.task_always_eager = True


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("The worker did not finish the tasks in time.")
