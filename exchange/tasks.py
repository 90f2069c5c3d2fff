from celery import shared_task

from exchange import services


@shared_task(name="exchange.expire_listings")
def task_expire_listings() -> int:
    """Hide listings whose review-by date passed; idempotent (only published ones change)."""
    return services.listings_expire()
