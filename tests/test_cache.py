"""The Redis cache (cooperanet.cache): Django's, keeping one client per connection pool."""

from __future__ import annotations

import threading

from django.core.cache import cache, caches


def test_the_cache_keeps_its_client_and_works():
    client = cache._cache.get_client()
    assert cache._cache.get_client() is client
    assert cache._cache.get_client(write=True) is client  # one server: one pool
    cache.set("cooperanet-test:answer", {"n": 42}, 30)
    assert cache.get("cooperanet-test:answer") == {"n": 42}
    assert cache.add("cooperanet-test:counter", 1, 30)
    assert cache.incr("cooperanet-test:counter") == 2
    cache.delete_many(["cooperanet-test:answer", "cooperanet-test:counter"])
    assert cache.get("cooperanet-test:answer") is None


def test_each_thread_has_its_own_cache_and_client():
    seen = []

    def read() -> None:
        seen.append(caches["default"]._cache.get_client())

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert len(seen) == 1
    assert seen[0] is not cache._cache.get_client()
