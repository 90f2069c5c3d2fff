"""Suggested matches: the offers most likely to answer a need, and the needs an offer answers.

Scored in two steps so that one listing's top ten stays fast at 100,000 listings:
1. candidates: published listings of the other kind, from another institution, sharing a
   focus area (or, when that finds fewer than wanted, a focus area or an SDG), ordered by
   a structural score (shared focus areas, shared SDGs, beneficiary fit, same language)
   and cut to the best 200. The scores are counted on the catalogue's bitmaps
   (exchange.bitmaps): the listings sharing exactly k of the areas, exactly k of the goals,
   fitting, in the language, are a few operations on a dozen bitmaps, taken from the best
   score down until 200 are found, whatever the size of the catalogue;
2. those 200 are re-scored in SQL with the full-text rank of the listing's own words, and
   the best ten are returned, each with the reasons that made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import connection
from django.urls import reverse

from cooperanet.lookups import array_literal
from exchange import bitmaps, caching, search, selectors
from exchange.models import Listing
from exchange.regions import regions_of
from exchange.search import CONFIGS
from exchange.text import fold, query_words

CANDIDATES = 200
WEIGHTS = {"area": 3.0, "sdg": 2.0, "fit": 2.0, "language": 1.0, "text": 6.0}

STOP_WORDS = {
    "the", "and", "for", "with", "from", "los", "las", "del", "para", "con", "por", "une",
    "des", "les", "pour", "dans", "com", "dos", "das", "que", "una", "uno", "sur",
}  # fmt: skip


class MatchedListing(NamedTuple):
    """What a match shows of its listing: plain values, cheap to cache and read back."""

    pk: int
    title: str
    language: str
    institution: str

    def get_absolute_url(self) -> str:
        return reverse("exchange:listing", kwargs={"pk": self.pk})


@dataclass(frozen=True)
class Match:
    listing: MatchedListing
    score: float
    shared_focus_areas: list[int]
    shared_sdgs: list[int]
    beneficiary_fit: bool
    same_language: bool
    text_similarity: float


# The candidates come with their structural score (from the bitmaps); SQL adds the text rank,
# computed once a candidate (MATERIALIZED: written twice in the select list, it would be
# computed twice, each reading the search vector from TOAST), and reads what the best ones
# show.
SQL = """
WITH ranked AS MATERIALIZED (
    SELECT c.id, c.base, c.fit, c.same_language,
           COALESCE(ts_rank(l.search_vector, %(tsquery)s), 0) AS rank
      FROM unnest(%(ids)s::int[], %(bases)s::float8[], %(fits)s::int[], %(languages)s::int[])
               AS c (id, base, fit, same_language)
      JOIN exchange_listing l ON l.id = c.id
), best AS (
    SELECT id, fit, same_language, rank, base + %(w_text)s * LEAST(rank * 10, 1) AS score
      FROM ranked
     ORDER BY score DESC, id DESC
     LIMIT %(limit)s
)
SELECT b.fit, b.same_language, b.rank, b.score,
       l.id, l.title, l.language, i.name, l.focus_area_ids, l.sdg_numbers
  FROM best b
  JOIN exchange_listing l ON l.id = b.id
  JOIN accounts_institution i ON i.id = l.institution_id
 ORDER BY b.score DESC, b.id DESC
"""


def _tsquery_sql(words: list[str]) -> tuple[str, dict]:
    """An OR of the listing's significant words, stemmed in every language's configuration."""
    if not words:
        return "NULL::tsquery", {}
    return search.readings_sql("%(words)s", CONFIGS.values()), {"words": " or ".join(words)}


def matches_for(listing: Listing, *, limit: int = 10) -> list[Match]:
    """The best ``limit`` listings of the other kind for ``listing``, with their reasons.

    Cached, their listings with them, until the catalogue changes: saving any listing or
    institution changes it (``exchange.signals``), so a cached match is never older than
    what the catalogue shows.
    """
    if not listing.focus_area_ids and not listing.sdg_numbers:
        return []
    return caching.catalogue_cached(
        matches_key(listing.pk, limit), lambda: _matches(listing, limit)
    )


def matches_key(pk: int, limit: int = 10) -> str:
    """The key of a listing's matches in ``caching.catalogue_cached``."""
    return f"match-list:{pk}:{limit}"


def _matches(listing: Listing, limit: int) -> list[Match]:
    areas, goals = set(listing.focus_area_ids), set(listing.sdg_numbers)
    matches = []
    for row in _scored(listing, limit, candidates(listing, limit=limit)):
        fit, language, rank, score, pk, title, language_code, institution, theirs, their_goals = row
        matches.append(
            Match(
                listing=MatchedListing(pk, title, language_code, institution),
                score=round(float(score), 2),
                shared_focus_areas=sorted(areas.intersection(theirs)),
                shared_sdgs=sorted(goals.intersection(their_goals)),
                beneficiary_fit=bool(fit),
                same_language=bool(language),
                text_similarity=round(float(rank), 3),
            )
        )
    return matches


class Candidate(NamedTuple):
    id: int
    base: float  # the structural score
    fit: int
    same_language: int


def candidates(listing: Listing, *, limit: int = 10, count: int = CANDIDATES) -> list[Candidate]:
    """The ``count`` listings of the other kind with the best structural score for
    ``listing`` (ties: the newest id first), from the catalogue's bitmaps: among those
    sharing a focus area, or a focus area or an SDG when fewer than ``limit`` share one."""
    other = Listing.Kind.OFFER if listing.kind == Listing.Kind.NEED else Listing.Kind.NEED
    areas = [("focus_area", v) for v in listing.focus_area_ids]
    goals = [("sdg", v) for v in listing.sdg_numbers]
    fit_terms, fits_all = _fit_terms(listing)
    language = ("language", listing.language)
    bits = bitmaps.fetch([("kind", other), *areas, *goals, *fit_terms, language])
    pool = bits[("kind", other)] & ~bitmaps.of_python(_published_by(listing.institution_id, other))
    sharing_area = _union(bits[term] for term in areas)
    universe = pool & sharing_area
    if universe.bit_count() < limit:
        universe = pool & (sharing_area | _union(bits[term] for term in goals))
    fit = universe if fits_all else universe & _union(bits[term] for term in fit_terms)
    same_language = bits[language]
    # Every listing of the universe falls in one cell: exactly a shared areas, s shared
    # goals, fitting or not, in the language or not. The cells are made as the best scores
    # need them, not all beforehand: most searches stop within the first few scores.
    with_areas = _exactly([bits[t] for t in areas], universe)
    goal_bits = [bits[t] for t in goals]
    with_goals: dict[int, list[int]] = {}

    def cell(a: int, s: int, f: int, language_bit: int) -> int:
        if a not in with_goals:
            with_goals[a] = _exactly(goal_bits, with_areas[a])
        fitting = with_goals[a][s] & (fit if f else ~fit)
        return fitting & (same_language if language_bit else ~same_language)

    by_score: dict[float, list[tuple[int, int, int, int]]] = {}
    for a in range(len(areas) + 1):
        if not with_areas[a]:
            continue
        for s in range(len(goals) + 1):
            for f in (1, 0):
                for language_bit in (1, 0):
                    score = (
                        WEIGHTS["area"] * a
                        + WEIGHTS["sdg"] * s
                        + WEIGHTS["fit"] * f
                        + WEIGHTS["language"] * language_bit
                    )
                    by_score.setdefault(score, []).append((a, s, f, language_bit))
    chosen: list[Candidate] = []
    for score in sorted(by_score, reverse=True):
        # Cells of one score are disjoint: the highest ids of each, merged in id order.
        wanted = count - len(chosen)
        best = sorted(
            (
                (pk, f, language_bit)
                for a, s, f, language_bit in by_score[score]
                for pk in bitmaps.highest(cell(a, s, f, language_bit), wanted)
            ),
            reverse=True,
        )[:wanted]
        chosen += [Candidate(pk, score, f, language_bit) for pk, f, language_bit in best]
        if len(chosen) >= count:
            break
    return chosen


def _published_by(institution_id: int, kind: str) -> list[int]:
    """The ids of an institution's published listings of ``kind`` (its own are never its
    matches). Written in SQL: building the ORM's query took longer than running it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM exchange_listing WHERE institution_id = %s AND kind = %s "
            "AND status = %s",
            [institution_id, kind, Listing.Status.PUBLISHED],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _union(bitmaps_: Iterable[int]) -> int:
    union = 0
    for bits in bitmaps_:
        union |= bits
    return union


def _exactly(sets: list[int], universe: int) -> list[int]:
    """The members of ``universe`` in exactly k of ``sets``, for k = 0 … len(sets)."""
    counts = [universe]
    for members in sets:
        counts = [
            (counts[k] & ~members if k < len(counts) else 0)
            | (counts[k - 1] & members if k > 0 else 0)
            for k in range(len(counts) + 1)
        ]
    return counts


def _fit_terms(listing: Listing) -> tuple[list[tuple[str, object]], bool]:
    """The terms of the candidates that suit the listing's beneficiaries, and whether every
    candidate does: for a need, the offers open to its country (named, by region, or open
    to all); for an offer, the needs from a country it names or from a region it names
    (all, when it names none)."""
    if listing.kind == Listing.Kind.NEED:
        iso3 = listing.country.iso3 if listing.country else None
        return [
            ("beneficiary", listing.country_id or 0),
            *[("region", region) for region in sorted(regions_of(iso3))],
            ("open", ""),
        ], False
    if not listing.beneficiary_ids and not listing.beneficiary_regions:
        return [], True
    regions = set(listing.beneficiary_regions)
    countries = set(listing.beneficiary_ids) | {
        pk
        for pk, country in selectors.reference().countries.items()
        if regions & regions_of(country.iso3)
    }
    return [("country", pk) for pk in sorted(countries)], False


def _scored(listing: Listing, limit: int, chosen: list[Candidate]) -> list[tuple]:
    """The best ``limit`` of the candidates (structural score and text rank), each with what
    its match shows: (fit, same language, rank, score, id, title, language, institution
    name, focus areas, SDGs)."""
    if not chosen:
        return []
    words = [
        word
        for word in dict.fromkeys(query_words(fold(f"{listing.title} {listing.summary}")))
        if len(word) > 3 and word not in STOP_WORDS
    ][:12]
    tsquery_sql, tsquery_params = _tsquery_sql(words)
    ids, bases, fits, languages = (array_literal(column) for column in zip(*chosen, strict=True))
    params = {
        "ids": ids,
        "bases": bases,
        "fits": fits,
        "languages": languages,
        "limit": limit,
        "w_text": WEIGHTS["text"],
        **tsquery_params,
    }
    with connection.cursor() as cursor:
        cursor.execute(SQL.replace("%(tsquery)s", tsquery_sql), params)
        return [tuple(row) for row in cursor.fetchall()]
