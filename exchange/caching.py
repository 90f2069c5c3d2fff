"""What the exchange keeps in the cache of its published catalogue: each part kept until the
catalogue changes (``catalogue_cached``), the versions that say when it did, and, within a
request, as few round trips to the cache as a page needs (``catalogue_prefetch``, writes
deferred to ``request_finished``). The reads themselves are in ``exchange.catalogue`` (the
catalogue's pages), ``exchange.selectors`` (a listing's page, the reference data),
``exchange.statistics`` and ``exchange.matching``."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TypeVar

from asgiref.local import Local
from django.core.cache import cache

T = TypeVar("T")
CATALOGUE_CACHE_SECONDS = 600
REFERENCE_CACHE_SECONDS = 24 * 3600
# Part of the keys of everything pickled into the cache here (the reference data, pages,
# counts, matches): change it when one of those classes changes shape, so that a deployment
# never reads back what the code before it pickled.
CACHE_FORMAT = 3
VERSION_KEY = "exchange:catalogue-version"
REFERENCE_VERSION_KEY = "exchange:reference-version"

# Within a request, the cache is spoken to as few times as a page needs:
# - the two versions below are read once: a catalogue page asks for them up to five times
#   (each cached part, the reference data);
# - what ``catalogue_cached`` read or computed is kept (``read``), and a page may read all
#   its parts, with the versions, in one round trip first (``catalogue_prefetch``);
# - what it computed is written in one round trip when the request has finished
#   (``written``): after the answer has gone, where a WSGI server sends ``request_finished``.
# Set up and dropped by ``request_started``/``request_finished`` (exchange.signals); outside
# a request (tasks, commands) every read and write goes to the cache at once.
_request = Local()


def request_started() -> None:
    _request.versions = {}
    _request.read = {}
    _request.written = {}


def request_finished() -> None:
    written = getattr(_request, "written", None)
    _request.versions = _request.read = _request.written = None
    if len(written or ()) == 1:
        cache.set(*written.popitem(), CATALOGUE_CACHE_SECONDS)  # a set_many costs more
    elif written:
        cache.set_many(written, CATALOGUE_CACHE_SECONDS)


def version(key: str, initial: Callable[[], object]) -> object:
    """The cache's ``key`` version, read once a request (set to ``initial()`` when missing)."""
    versions = getattr(_request, "versions", None)
    if versions is None:
        return cache.get_or_set(key, initial, None)
    if key not in versions:
        if not versions:
            # Both at the first read of the request: a page needs both.
            versions.update(cache.get_many([VERSION_KEY, REFERENCE_VERSION_KEY]))
        if key not in versions:  # never set (a new cache): set now
            versions[key] = cache.get_or_set(key, initial, None)
    return versions[key]


def _version_changed(key: str, value: object) -> None:
    versions = getattr(_request, "versions", None)
    if versions is not None:
        versions[key] = value


def reference_changed() -> None:
    version = secrets.token_hex(8)
    cache.set(REFERENCE_VERSION_KEY, version, None)
    _version_changed(REFERENCE_VERSION_KEY, version)
    catalogue_changed()


def catalogue_changed() -> None:
    """Invalidate what `catalogue_cached` keeps: called whenever what the catalogue shows
    changes."""
    try:
        version = cache.incr(VERSION_KEY)
    except ValueError:
        version = 1
        cache.set(VERSION_KEY, version, None)
    _version_changed(VERSION_KEY, version)


def catalogue_version() -> int:
    return version(VERSION_KEY, lambda: 1)


def catalogue_cached(key: str, compute: Callable[[], T]) -> T:
    """``compute()``, kept in the cache under ``key`` until the catalogue changes (and at most
    CATALOGUE_CACHE_SECONDS): what everybody reads of the published catalogue (pages, counts,
    matches, statistics, public API pages) is computed once per change, not per request.

    Each part is kept with the catalogue version it was computed at, under a key that does
    not name the version: a page can then read the version and its parts in one round trip
    (``catalogue_prefetch``), and a part of an older version is computed again."""
    stored_key = entry_key(key)
    current = catalogue_version()
    read = getattr(_request, "read", None)
    if read is None:
        entry = cache.get(stored_key)
        if entry is not None and entry[0] == current:
            return entry[1]
        value = compute()
        keep(stored_key, (current, value))
        return value
    entry = read[stored_key] if stored_key in read else cache.get(stored_key)
    if entry is not None and entry[0] == current:
        read[stored_key] = entry
        return entry[1]
    value = compute()
    read[stored_key] = (current, value)
    keep(stored_key, (current, value))
    return value


def keep(stored_key: str, entry: object) -> None:
    """Write ``entry`` to the cache under ``stored_key`` (an ``entry_key``): within a request
    with its other writes, once it is answered (``request_finished``); outside one at
    once."""
    written = getattr(_request, "written", None)
    if written is None:
        cache.set(stored_key, entry, CATALOGUE_CACHE_SECONDS)
    else:
        written[stored_key] = entry


def catalogue_prefetch(*keys: str) -> None:
    """Read what ``catalogue_cached`` keeps under ``keys`` in one round trip to the cache,
    with the versions when the request has not read them yet: for a page that knows the
    parts it will ask for (a catalogue page: its results, facet counts and filter column; a
    listing's page: the listing and its matches; the statistics). Only within a request."""
    read = getattr(_request, "read", None)
    if read is None:
        return
    versions = _request.versions
    version_keys = [] if versions else [VERSION_KEY, REFERENCE_VERSION_KEY]
    wanted = [stored for stored in map(entry_key, keys) if stored not in read]
    found = cache.get_many([*version_keys, *wanted])
    versions.update((key, found[key]) for key in version_keys if key in found)
    for stored in wanted:
        read[stored] = found.get(stored)


def entry_key(key: str) -> str:
    """Where the cache keeps the part ``key`` (the format of the code that pickled it in)."""
    return f"exchange:catalogue:{CACHE_FORMAT}:{key}"
