"""Benchmark of the API's list endpoints at 1,000 and 100,000 listings.

    make bench     # runs this after the exchange benchmark

The same databases and method as ``tests/bench/exchange.py``: the median time of the whole
request against the median time of the SQL it ran, re-executed directly; targets: an API list
page costs at most 2.5 x its own SQL, and at most 1.5 x its time at 1,000 listings.
"""

from __future__ import annotations

import sys

from tests.bench.exchange import Probe, _load, _probe, _settle, _setup, main


def probes(size: int) -> dict[str, Probe]:
    _setup(size)
    _load(size)
    from django.core.cache import cache
    from django.db import connection
    from rest_framework.test import APIClient

    from accounts import services
    from accounts.models import ApiToken, User
    from exchange import selectors

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE exchange_listing")
    _settle()
    # Each round starts with the API's rate limits (kept in Redis) fresh: one round's
    # requests fit in them, three rounds' do not.
    cache.clear()
    selectors.reference()
    anonymous = APIClient()
    user = User.objects.filter(institution__isnull=False).first() or User.objects.first()
    signed_in = APIClient()
    # The tokens of earlier runs go first: a person may hold only TOKEN_LIMIT_PER_USER.
    ApiToken.objects.filter(user=user, name="bench").delete()
    _token, secret = services.api_token_create(user=user, name="bench")
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    pages = {
        "offers, newest (anonymous)": (anonymous, "/api/v1/offers/?ordering=-published"),
        "offers, filters (anonymous)": (
            anonymous,
            "/api/v1/offers/?focus_area=other&modality=south_south&ordering=-published",
        ),
        "offers, text query (anonymous)": (
            anonymous,
            "/api/v1/offers/?q=gesti%C3%B3n+del+riesgo&language=es&ordering=-published",
        ),
        # A signed-in reader (a national system with its token) is read live: its own drafts
        # are part of what it sees.
        "offers, filters (token)": (
            signed_in,
            "/api/v1/offers/?focus_area=other&modality=south_south&ordering=-published",
        ),
        "offers, text query (token)": (
            signed_in,
            "/api/v1/offers/?q=gesti%C3%B3n+del+riesgo&language=es&ordering=-published",
        ),
        "needs, 100 a page (token)": (
            signed_in,
            "/api/v1/needs/?page_size=100&ordering=-published",
        ),
    }
    return {name: _probe(client, url) for name, (client, url) in pages.items()}


if __name__ == "__main__":
    sys.exit(main(probes, "tests.bench.api"))
