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

from django.db import connection

from exchange import bitmaps, selectors
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


@dataclass(frozen=True)
class Match:
    listing: Listing
    score: float
    shared_focus_areas: list[int]
    shared_sdgs: list[int]
    beneficiary_fit: bool
    same_language: bool
    text_similarity: float


SQL = """
WITH structural AS (
    SELECT l.id,
           %(area_score)s AS shared_areas,
           %(sdg_score)s AS shared_sdgs,
           CASE WHEN %(fit_sql)s THEN 1 ELSE 0 END AS fit,
           CASE WHEN l.language = %(language)s THEN 1 ELSE 0 END AS same_language
      FROM exchange_listing l
     WHERE l.status = 'published'
       AND l.kind = %(kind)s
       AND l.institution_id <> %(institution)s
       AND %(candidate_sql)s
), best AS (
    SELECT *, %(w_area)s * shared_areas + %(w_sdg)s * shared_sdgs
              + %(w_fit)s * fit + %(w_language)s * same_language AS base
      FROM structural
     ORDER BY base DESC, id DESC
     LIMIT %(candidates)s
)
SELECT best.id, fit, same_language, COALESCE(ts_rank(l.search_vector, %(tsquery)s), 0),
       base + %(w_text)s * LEAST(COALESCE(ts_rank(l.search_vector, %(tsquery)s), 0) * 10, 1)
           AS score
  FROM best JOIN exchange_listing l ON l.id = best.id
 ORDER BY score DESC, best.id DESC
 LIMIT %(limit)s
"""


def _shared_count_sql(column: str, values: list[int], cast: str) -> str:
    """How many of ``values`` the candidate's array holds, with the GIN-friendly @> test.

    (No intarray in the embedded PostgreSQL; listings carry a handful of values, so a sum
    of containment tests is as fast and needs nothing installed.)
    """
    if not values:
        return "0"
    return " + ".join(f"(l.{column} @> ARRAY[{int(v)}]::{cast})::int" for v in values)


def _tsquery_sql(words: list[str]) -> tuple[str, dict]:
    """An OR of the listing's significant words, stemmed in every configuration."""
    if not words:
        return "NULL::tsquery", {}
    text = " or ".join(words)
    parts = [f"websearch_to_tsquery('{config}', %(words)s)" for config in CONFIGS.values()]
    return "(" + " || ".join(parts) + ")", {"words": text}


def _fit_sql(listing: Listing) -> tuple[str, dict]:
    """SQL true when a candidate suits the listing's beneficiaries (or the reverse)."""
    if listing.kind == Listing.Kind.NEED:
        # The offer is open to the need's country: named, by region, or open to all.
        iso3 = listing.country.iso3 if listing.country else None
        return (
            "(l.beneficiary_ids @> ARRAY[%(country)s]::int[] "
            "OR l.beneficiary_regions && %(regions)s::varchar[] "
            "OR (cardinality(l.beneficiary_ids) = 0 AND cardinality(l.beneficiary_regions) = 0))",
            {"country": listing.country_id or 0, "regions": sorted(regions_of(iso3))},
        )
    # For an offer: needs from a country the offer serves.
    return (
        "(l.country_id = ANY(%(beneficiaries)s::int[]) OR %(open)s)",
        {
            "beneficiaries": list(listing.beneficiary_ids),
            "open": not listing.beneficiary_ids and not listing.beneficiary_regions,
        },
    )


def matches_for(listing: Listing, *, limit: int = 10) -> list[Match]:
    """The best ``limit`` listings of the other kind for ``listing``, with their reasons.

    The scores are cached until the catalogue changes; the ten listings are read live.
    """
    if not listing.focus_area_ids and not listing.sdg_numbers:
        return []
    rows = selectors.catalogue_cached(
        f"matches:{listing.pk}:{limit}", lambda: _scores(listing, limit)
    )
    found = Listing.objects.select_related("institution", "country").in_bulk(
        [row[0] for row in rows]
    )
    return [
        Match(
            listing=found[pk],
            score=round(float(score), 2),
            shared_focus_areas=sorted(set(listing.focus_area_ids) & set(found[pk].focus_area_ids)),
            shared_sdgs=sorted(set(listing.sdg_numbers) & set(found[pk].sdg_numbers)),
            beneficiary_fit=bool(fit),
            same_language=bool(language),
            text_similarity=round(float(rank), 3),
        )
        for pk, fit, language, rank, score in rows
        if pk in found
    ]


def _scores(listing: Listing, limit: int) -> list[tuple]:
    return _scores_among(listing, limit, candidates(listing, limit=limit))


def candidates(listing: Listing, *, limit: int = 10, count: int = CANDIDATES) -> list[int]:
    """The ids of the ``count`` listings of the other kind with the best structural score
    for ``listing`` (ties: the newest id first), from the catalogue's bitmaps: among those
    sharing a focus area, or a focus area or an SDG when fewer than ``limit`` share one."""
    other = Listing.Kind.OFFER if listing.kind == Listing.Kind.NEED else Listing.Kind.NEED
    areas = [("focus_area", v) for v in listing.focus_area_ids]
    goals = [("sdg", v) for v in listing.sdg_numbers]
    fit_terms, fits_all = _fit_terms(listing)
    language = ("language", listing.language)
    bits = bitmaps.fetch([("kind", other), *areas, *goals, *fit_terms, language])
    own = Listing.objects.filter(
        institution_id=listing.institution_id, kind=other, status=Listing.Status.PUBLISHED
    ).values_list("id", flat=True)
    pool = bits[("kind", other)] & ~bitmaps.of_python(own)
    sharing_area = _union(bits[term] for term in areas)
    universe = pool & sharing_area
    if universe.bit_count() < limit:
        universe = pool & (sharing_area | _union(bits[term] for term in goals))
    fit = universe if fits_all else universe & _union(bits[term] for term in fit_terms)
    same_language = bits[language]
    # Every listing of the universe falls in one cell: exactly a shared areas, s shared
    # goals, fitting or not, in the language or not.
    by_score: dict[float, int] = {}
    for a, with_areas in enumerate(_exactly([bits[t] for t in areas], universe)):
        for s, with_goals in enumerate(_exactly([bits[t] for t in goals], with_areas)):
            for f, fitting in ((1, with_goals & fit), (0, with_goals & ~fit)):
                for language_bit, cell in (
                    (1, fitting & same_language),
                    (0, fitting & ~same_language),
                ):
                    score = (
                        WEIGHTS["area"] * a
                        + WEIGHTS["sdg"] * s
                        + WEIGHTS["fit"] * f
                        + WEIGHTS["language"] * language_bit
                    )
                    by_score[score] = by_score.get(score, 0) | cell
    chosen: list[int] = []
    for score in sorted(by_score, reverse=True):
        chosen += bitmaps.highest(by_score[score], count - len(chosen))
        if len(chosen) >= count:
            break
    return chosen


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
    """The terms of the candidates that suit the listing's beneficiaries (the same rule as
    ``_fit_sql``), and whether every candidate does."""
    if listing.kind == Listing.Kind.NEED:
        iso3 = listing.country.iso3 if listing.country else None
        return [
            ("beneficiary", listing.country_id or 0),
            *[("region", region) for region in sorted(regions_of(iso3))],
            ("open", ""),
        ], False
    if not listing.beneficiary_ids and not listing.beneficiary_regions:
        return [], True
    return [("country", pk) for pk in listing.beneficiary_ids], False


def _scores_among(listing: Listing, limit: int, ids: list[int]) -> list[tuple]:
    """The best ``limit`` of the candidates ``ids``, structural score and text rank."""
    if not ids:
        return []
    words = [
        word
        for word in dict.fromkeys(query_words(fold(f"{listing.title} {listing.summary}")))
        if len(word) > 3 and word not in STOP_WORDS
    ][:12]
    tsquery_sql, tsquery_params = _tsquery_sql(words)
    fit_sql, fit_params = _fit_sql(listing)
    sql = (
        SQL.replace("%(candidate_sql)s", "l.id = ANY(%(ids)s)")
        .replace("%(tsquery)s", tsquery_sql)
        .replace("%(fit_sql)s", fit_sql)
        .replace(
            "%(area_score)s", _shared_count_sql("focus_area_ids", listing.focus_area_ids, "int[]")
        )
        .replace(
            "%(sdg_score)s", _shared_count_sql("sdg_numbers", listing.sdg_numbers, "smallint[]")
        )
    )
    params = {
        "areas": list(listing.focus_area_ids),
        "sdgs": list(listing.sdg_numbers),
        "ids": ids,
        "language": listing.language,
        "kind": Listing.Kind.OFFER if listing.kind == Listing.Kind.NEED else Listing.Kind.NEED,
        "institution": listing.institution_id,
        "candidates": CANDIDATES,
        "limit": limit,
        **{f"w_{name}": weight for name, weight in WEIGHTS.items()},
        **tsquery_params,
        **fit_params,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
