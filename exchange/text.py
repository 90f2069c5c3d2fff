"""Text helpers of the exchange: accent folding, safe Markdown, highlighted snippets."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

import markdown
import nh3
from django.core.cache import cache
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote", "code", "pre", "h3", "h4",
    "table", "thead", "tbody", "tr", "th", "td", "hr",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"scope"}}
# Rendered Markdown is kept by the digest of its text (``rendered_markdown``); change this
# when ``render_markdown`` renders differently, so that no page shows the old rendering.
MARKDOWN_RENDERING = 1
MARKDOWN_CACHE_SECONDS = 7 * 24 * 3600
WORD = re.compile(r"\w+", re.UNICODE)


# Folding strips the accents of every Latin letter (and of other scripts alike): the text is
# decomposed (NFD), its combining marks dropped, the letters that do not decompose (œ, æ, ø)
# replaced, and the whole lower-cased. PostgreSQL folds documents the same way in the
# trigger that builds the search vector (``fold_sql``; the embedded PostgreSQL has no
# ``unaccent``), so documents and queries meet. ``normalize`` and ``regexp_replace`` run
# several times faster there than one ``translate`` over a table of accented letters.
UNDECOMPOSED, UNDECOMPOSED_PLAIN = "ŒœÆæØø", "ooaaoo"
COMBINING = (0x300, 0x36F)  # the block of combining diacritical marks, first and last
# Both as patterns: a regular expression scans in C, where ``str.translate`` looks every
# character up in a dict (20 µs against 6.5 µs for a summary of 184 characters).
_COMBINING = re.compile(f"[{chr(COMBINING[0])}-{chr(COMBINING[1])}]+")
_UNDECOMPOSED_ANY = re.compile(f"[{UNDECOMPOSED}]")
_UNDECOMPOSED = str.maketrans(UNDECOMPOSED, UNDECOMPOSED_PLAIN)


def fold(text: str) -> str:
    """Strip accents and lower-case ("Cooperación" -> "cooperacion")."""
    stripped = _COMBINING.sub("", unicodedata.normalize("NFD", text))
    if _UNDECOMPOSED_ANY.search(stripped):
        stripped = stripped.translate(_UNDECOMPOSED)
    return stripped.lower()


def fold_each(text: str) -> str:
    """``fold`` one character for one, so that positions in the result are those of ``text``
    (for highlighting)."""
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    return "".join((fold(character) or character)[:1] for character in text)


def fold_sql(expression: str) -> str:
    """The SQL of ``fold`` applied to ``expression`` (PostgreSQL 13+, UTF8 database)."""
    marks = "-".join(f"\\u{code:04x}" for code in COMBINING)
    stripped = f"regexp_replace(normalize({expression}, NFD), '[{marks}]', '', 'g')"
    return f"lower(translate({stripped}, '{UNDECOMPOSED}', '{UNDECOMPOSED_PLAIN}'))"


def render_markdown(text: str) -> SafeString:
    """Markdown to HTML that cannot run script: nh3 keeps only plain formatting and links."""
    html = markdown.markdown(text or "", extensions=["sane_lists", "tables"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above


def rendered_markdown(text: str) -> SafeString:
    """``render_markdown(text)``, kept in the cache under the digest of ``text``: the same text
    always renders the same, so a listing's description is rendered once, not again after
    every change to the catalogue (0.6 ms for a description of 860 characters, read back in
    0.2)."""
    digest = hashlib.blake2b((text or "").encode(), digest_size=16).hexdigest()
    key = f"markdown:{MARKDOWN_RENDERING}:{digest}"
    html = cache.get(key)
    if html is None:
        html = str(render_markdown(text))
        cache.set(key, html, MARKDOWN_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - sanitised by render_markdown


def query_words(query: str) -> list[str]:
    """The folded words of a search query, without websearch operators."""
    return [word for word in WORD.findall(fold(query)) if word not in {"or", "and", "not"}]


@functools.lru_cache(maxsize=64)
def _words_starting_with_stems(query: str) -> re.Pattern | None:
    """A pattern of the (folded) words that begin with the stem of a word of ``query``: one
    scan of a text in C. Testing each word of a text against each stem in Python took twice
    as long (81 against 41 µs for a title and its summary)."""
    stems = {word[: max(4, len(word) - 2)] for word in query_words(query)}
    if not stems:
        return None
    return re.compile(rf"\b(?:{'|'.join(map(re.escape, sorted(stems)))})\w*", re.UNICODE)


def matched_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where in ``text`` the words starting with a stem of ``query`` stand, once folded."""
    words = _words_starting_with_stems(query)
    return [match.span() for match in words.finditer(fold_each(text))] if words else []


def highlight(text: str, query: str, *, length: int = 240) -> SafeString:
    """An escaped snippet of ``text`` around the first match of ``query``, matches in <mark>.

    Matching is by folded word prefix (the stem of "potables" starts like "potable"), so the
    highlight agrees with what the stemmed full-text search found.
    """
    # Composed, so that an accent typed as a separate mark stays in its word (it looks alike).
    text = unicodedata.normalize("NFC", text)
    spans = matched_spans(text, query)
    if not spans:
        snippet = text[:length]
        return mark_safe(escape(snippet) + ("…" if len(text) > length else ""))  # noqa: S308
    start = max(0, spans[0][0] - length // 3)
    if start:
        # Begin the snippet at a word, not in the middle of one.
        space = text.find(" ", start, spans[0][0])
        start = space + 1 if space != -1 else spans[0][0]
    end = min(len(text), start + length)
    parts, cursor = [], start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        parts.append(escape(text[cursor:span_start]))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(escape(text[cursor:end]))
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + "".join(parts) + suffix)  # noqa: S308 - every piece escaped
