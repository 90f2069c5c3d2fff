"""The site header: what does not depend on who is signed in is kept rendered per language
(the "fragments" cache); a signed-in person still sees their own links."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _header(client, language: str) -> str:
    client.cookies["django_language"] = language
    page = client.get(reverse("exchange:statistics")).content.decode()
    return page[page.index('<header class="site-header">') : page.index("</header>")]


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
        assert 'name="csrfmiddlewaretoken"' in header


def test_a_signed_in_person_sees_their_own_links_after_a_visitor(client, focal_point):
    visitor = _header(client, "es")
    assert "Iniciar sesión" in visitor
    client.force_login(focal_point)
    header = _header(client, "es")
    assert f'<a href="{reverse("exchange:catalogue")}">Catálogo</a>' in header
    assert f'<a href="{reverse("accounts:dashboard")}">Panel</a>' in header
    assert "Cerrar sesión" in header
    assert "Iniciar sesión" not in header
