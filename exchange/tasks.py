from celery import shared_task

from exchange import imports, services


@shared_task(name="exchange.expire_listings")
def task_expire_listings() -> int:
    """Hide listings whose review-by date passed; idempotent (only published ones change)."""
    return services.listings_expire()


@shared_task(name="exchange.remind_review")
def task_remind_review() -> int:
    """Remind publishers of listings due for review; idempotent (once per listing and date)."""
    return services.listings_remind_review()


@shared_task(name="exchange.import_run")
def task_import_run(*, job_id: int) -> str | None:
    """Write a confirmed import; a job already running or done is left alone."""
    job = imports.import_run(job_id=job_id)
    return job.status if job else None
