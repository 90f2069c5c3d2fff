"""The site header: what does not depend on who is signed in is kept rendered per language
(the "fragments" cache); a signed-in person still sees their own links."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _header(client, language: str) -> str:
    client.cookies["django_language"] = language
    page = client.get(reverse("exchange:statistics")).content.decode()
    header = page[page.index('<header class="site-header">') : page.index("</header>") + 9]
    assert _unclosed(header) == []
    # The language form holds its choice, the page to come back to and the CSRF token.
    start = header.index('<form class="language"')
    form = header[start : header.index("</form>", start)]
    assert 'name="language"' in form
    assert 'name="next"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    return header


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in {"input", "meta", "link", "br", "img"}:
            self.open.append(tag)

    def handle_endtag(self, tag) -> None:
        assert self.open[-1:] == [tag], (self.open, tag)
        self.open.pop()


def _unclosed(html: str) -> list[str]:
    """The tags ``html`` leaves open (each closed tag must close the last one opened): the
    header is written in pieces kept apart, one of which closes what another opened."""
    parser = _Tags()
    parser.feed(html)
    return parser.open


def test_a_visitor_header_follows_the_language_page_after_page(client):
    expected = {
        "es": ("Catálogo", "Iniciar sesión", '<option value="es" lang="es" selected>'),
        "en": ("Catalogue", "Sign in", '<option value="en" lang="en" selected>'),
        "pt": ("Catálogo", "Entrar", '<option value="pt" lang="pt" selected>'),
        "fr": ("Catalogue", "Se connecter", '<option value="fr" lang="fr" selected>'),
    }
    # Each language twice, in turns: the second time reads what the first kept.
    for language in [*expected, *expected]:
        header = _header(client, language)
        catalogue, sign_in, option = expected[language]
        assert f'<a href="{reverse("exchange:catalogue")}">{catalogue}</a>' in header
        assert f'<a href="{reverse("account_login")}">{sign_in}</a>' in header
        assert option in header
        assert header.count("selected") == 1


def test_a_signed_in_person_sees_their_own_links_after_a_visitor(client, focal_point):
    visitor = _header(client, "es")
    assert "Iniciar sesión" in visitor
    client.force_login(focal_point)
    header = _header(client, "es")
    assert f'<a href="{reverse("exchange:catalogue")}">Catálogo</a>' in header
    assert f'<a href="{reverse("accounts:dashboard")}">Panel</a>' in header
    assert "Cerrar sesión" in header
    assert "Iniciar sesión" not in header


def test_the_skip_link_and_footer_follow_the_language(client):
    for language, skip, footer in [
        ("es", "Saltar al contenido", "la Red Interamericana de Cooperación"),
        ("fr", "Aller au contenu", "le Réseau interaméricain de coopération"),
        ("es", "Saltar al contenido", "la Red Interamericana de Cooperación"),
    ]:
        client.cookies["django_language"] = language
        page = client.get(reverse("exchange:statistics")).content.decode()
        assert skip in page
        assert footer in page
