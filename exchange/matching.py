"""Suggested matches: the offers most likely to answer a need, and the needs an offer answers.

Scored in two steps so that one listing's top ten stays fast at 100,000 listings:
1. candidates: published listings of the other kind, from another institution, sharing a
   focus area (or, when that finds fewer than wanted, a focus area or an SDG), through the
   GIN indexes on the denormalised arrays, ordered by a
   structural score — shared focus areas, shared SDGs, beneficiary fit, same language — and
   cut to the best 200;
2. those 200 are re-scored with the full-text rank of the listing's own words, and the best
   ten are returned, each with the reasons that made it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from exchange import selectors
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


AREA_CANDIDATES = "l.focus_area_ids && %(areas)s::int[]"
ANY_CANDIDATES = "(l.focus_area_ids && %(areas)s::int[] OR l.sdg_numbers && %(sdgs)s::smallint[])"


def _scores(listing: Listing, limit: int) -> list[tuple]:
    """Candidates sharing a focus area are a fraction of those sharing a focus area or an
    SDG; the wider set is read only when the narrow one cannot fill the list."""
    rows = _scores_among(listing, limit, AREA_CANDIDATES) if listing.focus_area_ids else []
    if len(rows) < limit:
        rows = _scores_among(listing, limit, ANY_CANDIDATES)
    return rows


def _scores_among(listing: Listing, limit: int, candidates: str) -> list[tuple]:
    words = [
        word
        for word in dict.fromkeys(query_words(fold(f"{listing.title} {listing.summary}")))
        if len(word) > 3 and word not in STOP_WORDS
    ][:12]
    tsquery_sql, tsquery_params = _tsquery_sql(words)
    fit_sql, fit_params = _fit_sql(listing)
    sql = (
        SQL.replace("%(candidate_sql)s", candidates)
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
