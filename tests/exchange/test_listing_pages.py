"""A listing's page, the web forms that write listings, documents, and dashboards."""

from __future__ import annotations

import datetime
import io
import re
import struct
import zipfile
import zlib

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchange import caching, services
from exchange.models import Connection, Listing, ListingDocument, ListingRevision
from tests import factories

pytestmark = pytest.mark.django_db


def _form(**values):
    data = {
        "title": "Sistema de alerta temprana ante inundaciones",
        "summary": "Asistencia técnica en alertas tempranas.",
        "description": "Pasantías y **misiones** de expertos.",
        "language": "es",
        "focus_areas": [factories.focus_area("sustainable-development-environment").pk],
        "sdgs": [factories.sdg(13).pk],
        "modality": "south_south",
        "cooperation_type": "technical_assistance",
        "stage": "in_execution",
        "contact_email": "cooperacion@apci.example.org",
    }
    data.update(values)
    return data


def _field_values(instance) -> dict | None:
    """The values of an instance's loaded fields (None for no instance)."""
    if instance is None:
        return None
    deferred = instance.get_deferred_fields()
    return {
        field.attname: getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if field.attname not in deferred
    }


class TestVisibility:
    def test_draft_is_404_to_others(self, client, peru, other_focal_point, partner):
        draft = factories.ListingFactory(institution=peru, status="draft")
        url = draft.get_absolute_url()
        assert client.get(url).status_code == 404
        for outsider in (other_focal_point, partner):
            client.force_login(outsider)
            assert client.get(url).status_code == 404
            assert client.get(reverse("exchange:edit", args=[draft.pk])).status_code == 404

    def test_a_partner_draft_is_not_its_countrys(self, client, peru, mission_liaison):
        """The liaison's pages agree with the rule: a partner based in Peru is not Peru."""
        partner_draft = factories.ListingFactory(
            institution=factories.PartnerInstitutionFactory(country=peru.country),
            title="Borrador de una fundación peruana",
            status="draft",
        )
        authority_draft = factories.ListingFactory(
            institution=peru, title="Borrador de la Autoridad", status="draft"
        )
        client.force_login(mission_liaison)
        assert client.get(partner_draft.get_absolute_url()).status_code == 404
        assert client.get(authority_draft.get_absolute_url()).status_code == 200
        dashboard = client.get(reverse("exchange:my_listings")).content.decode()
        assert "Borrador de la Autoridad" in dashboard
        assert "Borrador de una fundación peruana" not in dashboard

    def test_draft_is_visible_to_the_publisher_and_the_liaison(
        self, client, peru, focal_point, mission_liaison, board_member
    ):
        draft = factories.ListingFactory(institution=peru, status="draft")
        for insider in (focal_point, mission_liaison, board_member):
            client.force_login(insider)
            assert client.get(draft.get_absolute_url()).status_code == 200

    def test_published_page_shows_everything(self, client, peru, argentina):
        listing = factories.ListingFactory(
            institution=peru,
            description="Primera línea\n\n- pasantías\n- [guía](https://example.org)\n- [trampa](javascript:alert(1))\n\n<script>alert(1)</script><img src=x onerror=alert(1)>",
            relations__focus_areas=["other", "smes"],
            relations__sdgs=[8, 17],
            relations__beneficiaries=["BOL"],
            beneficiary_regions=["caribbean"],
            title="Pasantías en innovación de la gestión pública",
            summary="Intercambio de funcionarios entre agencias de gobierno digital.",
            modality="triangular",
            cooperation_type="internship",
            stage="concluded",
            duration_months=18,
            cost_sharing="La Autoridad cubre pasajes; la receptora, alojamiento.",
            contact_name="Ana Quispe",
            contact_email="aquispe@example.org",
            external_ref="APCI-2024-017",
            published_at=datetime.datetime(2024, 3, 5, 15, tzinfo=datetime.UTC),
            review_by=datetime.date(2031, 6, 30),
        )
        factories.DocumentFactory(listing=listing, name="Guía de pasantías.pdf", size=2048)
        factories.ListingFactory(
            institution=argentina, kind="need", relations__focus_areas=["smes"]
        )
        page = client.get(listing.get_absolute_url()).content.decode()
        facts = {
            "Published by": f'<a href="{reverse("exchange:institution", args=[peru.pk])}">'
            f'{peru.name}</a> (<a href="{reverse("exchange:country", args=["PER"])}">Peru</a>)',
            "Focus areas": "Small and Medium-sized Enterprises (SMEs) · Other",
            "SDGs": "8. Decent Work and Economic Growth · 17. Partnerships for the Goals",
            "Language": "Spanish",
            "Modality": "Triangular",
            "Type of cooperation": "Internship",
            "Stage": "Concluded (good practice)",
            "Duration": "18 months",
            "Cost sharing": "La Autoridad cubre pasajes; la receptora, alojamiento.",
            "Contact": 'Ana Quispe <a href="mailto:aquispe@example.org">aquispe@example.org</a>',
            "National reference": "APCI-2024-017",
            "Published": '<time datetime="2024-03-05T15:00:00+00:00">March 5, 2024</time>',
            "Review by": "June 30, 2031",
        }
        for term, value in facts.items():
            assert f"<dt>{term}</dt><dd>{value}</dd>" in page, (
                term,
                re.findall(r"<dt>.*?</dd>", page),
            )
        assert '<article class="listing" lang="es">' in page
        assert "<h1>Pasantías en innovación de la gestión pública</h1>" in page
        assert "Intercambio de funcionarios entre agencias de gobierno digital." in page
        document_url = reverse("exchange:document", args=[listing.pk, listing.documents.get().pk])
        assert f'<a href="{document_url}" download>Guía de pasantías.pdf</a> (2.0\xa0KB)' in page
        assert "<li>pasantías</li>" in page
        assert 'href="https://example.org"' in page
        assert "<script>alert(1)</script>" not in page
        assert "onerror" not in page
        # The link is kept as text, without its script.
        assert '<li><a rel="nofollow noopener noreferrer">trampa</a></li>' in page
        assert "javascript:" not in page
        assert "Bolivia; Caribbean" in page
        assert "8. Decent Work and Economic Growth" in page
        assert "Needs this offer may answer" in page
        assert "Sign in to express your institution's interest" in page

    def test_cached_matches_show_what_their_listings_say_now(
        self, client, peru, argentina, django_capture_on_commit_callbacks
    ):
        """The matches are cached with their listings: saving a matched listing or its
        institution changes the catalogue, and the page reads them again."""
        listing = factories.ListingFactory(institution=peru, relations__focus_areas=["smes"])
        need = factories.ListingFactory(
            institution=argentina,
            kind="need",
            title="Apoyo a pymes",
            relations__focus_areas=["smes"],
        )
        assert "Apoyo a pymes" in client.get(listing.get_absolute_url()).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            need.title = "Apoyo a pequeñas empresas"
            need.save()
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "Apoyo a pequeñas empresas" in page
        assert "Apoyo a pymes" not in page
        with django_capture_on_commit_callbacks(execute=True):
            argentina.name = "Agencia Argentina de Cooperación"
            argentina.save()
        assert "Agencia Argentina de Cooperación" in (
            client.get(listing.get_absolute_url()).content.decode()
        )
        with django_capture_on_commit_callbacks(execute=True):
            need.status = "withdrawn"
            need.save()
        assert "Apoyo a pequeñas empresas" not in (
            client.get(listing.get_absolute_url()).content.decode()
        )

    def test_visitors_page_follows_documents_and_revisions(
        self, client, peru, focal_point, secretariat, draft_data, django_capture_on_commit_callbacks
    ):
        """A visitor's page is kept until the catalogue changes: a file proposed, approved or
        removed, and changes waiting for the Secretariat, change it."""
        listing = factories.ListingFactory(institution=peru)
        first = factories.DocumentFactory(listing=listing, name="Guía.pdf", uploaded_by=focal_point)
        waiting = "Changes to this listing are waiting for the Secretariat"

        def page() -> str:
            return client.get(listing.get_absolute_url()).content.decode()

        shown = page()
        assert "Guía.pdf" in shown
        assert waiting not in shown
        with django_capture_on_commit_callbacks(execute=True):
            upload = SimpleUploadedFile("Informe.pdf", _pdf(), content_type="application/pdf")
            services.document_add(listing=listing, by=focal_point, upload=upload)
        shown = page()
        assert waiting in shown
        assert "Informe.pdf" not in shown
        with django_capture_on_commit_callbacks(execute=True):
            services.revision_approve(
                revision=listing.revisions.get(status="pending"), by=secretariat
            )
        shown = page()
        assert waiting not in shown
        assert "Informe.pdf" in shown
        with django_capture_on_commit_callbacks(execute=True):
            services.document_remove(document=first, by=focal_point)
        shown = page()
        assert "Guía.pdf" not in shown
        assert "Informe.pdf" in shown
        with django_capture_on_commit_callbacks(execute=True):
            services.listing_update(listing=listing, by=focal_point, data=draft_data(title="Nuevo"))
        assert waiting in page()

    def test_a_description_is_rendered_once_per_text(
        self, client, peru, focal_point, draft_data, monkeypatch, django_capture_on_commit_callbacks
    ):
        from exchange import text

        rendered = []

        def render_markdown(source):
            rendered.append(source)
            return real(source)

        real = text.render_markdown
        monkeypatch.setattr(text, "render_markdown", render_markdown)
        listing = factories.ListingFactory(institution=peru, description="Agua **potable**.")
        assert (
            "Agua <strong>potable</strong>."
            in client.get(listing.get_absolute_url()).content.decode()
        )
        # A change elsewhere in the catalogue does not render the same text again.
        caching.catalogue_changed()
        client.force_login(focal_point)
        assert (
            "Agua <strong>potable</strong>."
            in client.get(listing.get_absolute_url()).content.decode()
        )
        assert rendered == ["Agua **potable**."]
        # A new text is rendered anew, for a draft as for a published listing.
        draft = services.listing_create(
            by=focal_point, kind="offer", data=draft_data(description="Riego *eficiente*.")
        )
        assert "Riego <em>eficiente</em>." in client.get(draft.get_absolute_url()).content.decode()
        assert rendered == ["Agua **potable**.", "Riego *eficiente*."]

    @pytest.mark.parametrize("documents", [1, 4])
    def test_query_count(
        self, client, peru, argentina, focal_point, django_assert_num_queries, documents
    ):
        listing = factories.ListingFactory(institution=peru)
        factories.ListingFactory.create_batch(documents, institution=argentina, kind="need")
        factories.DocumentFactory.create_batch(documents, listing=listing, uploaded_by=focal_point)
        client.get(listing.get_absolute_url())
        # What a visitor sees is kept until the catalogue changes: the listing with its
        # documents, its description and its matches.
        with django_assert_num_queries(0):
            response = client.get(listing.get_absolute_url())
        assert len(response.context["matches"]) == len(response.context["documents"]) == documents
        # After a change to the catalogue: the listing (whether changes to it are pending),
        # its documents; then the matches: the bitmaps of the listing's terms, the
        # institution's own listings (never matched), the scores of the best candidates with
        # what the page shows of them.

        caching.catalogue_changed()
        with django_assert_num_queries(5):
            response = client.get(listing.get_absolute_url())
        assert len(response.context["matches"]) == len(response.context["documents"]) == documents

    def test_the_listing_is_read_as_the_orm_reads_it(
        self, peru, argentina, focal_point, other_focal_point, draft_data, django_assert_num_queries
    ):
        """The page's listing, read from a statement compiled once for visitors (and built
        each time for others), is the instance the ORM's select_related makes: same fields,
        its institution and country with it, its search fields left out."""
        from django.contrib.auth.models import AnonymousUser

        from exchange import selectors

        published = factories.ListingFactory(institution=peru, beneficiary_regions=["caribbean"])
        draft = services.listing_create(by=focal_point, kind="offer", data=draft_data())
        no_country = factories.ListingFactory(institution=argentina, country=None)
        assert no_country.country_id is None  # the country is optional
        services.listing_update(listing=published, by=focal_point, data=draft_data(title="Nuevo"))
        selectors._published_listing_statement.cache_clear()
        visitor = AnonymousUser()
        for user, listing, visible in [
            (visitor, published, True),
            (visitor, no_country, True),
            (visitor, draft, False),
            (other_focal_point, draft, False),
            (focal_point, draft, True),
            (focal_point, published, True),
        ]:
            read = selectors._listing_for_page(user, listing.pk)
            if not visible:
                assert read is None
                continue
            expected = (
                Listing.objects.select_related("institution", "country")
                .defer(*selectors.SEARCH_FIELDS)
                .get(pk=listing.pk)
            )
            with django_assert_num_queries(0):  # the institution and country came with it
                assert _field_values(read) == _field_values(expected)
                assert _field_values(read.institution) == _field_values(expected.institution)
                assert _field_values(read.country) == _field_values(expected.country)
            assert read.get_deferred_fields() == set(selectors.SEARCH_FIELDS)
            assert not read._state.adding
            assert read.has_pending_revision is (listing == published)
            assert read.has_documents is False
        info = selectors._published_listing_statement.cache_info()
        assert (info.misses, info.hits) == (1, 2)
        # The row is made into instances without the ORM's converters: it must need none.
        rows = Listing.objects.values_list(*selectors._PAGE_COLUMNS[:-2])
        compiler = rows.query.get_compiler(using="default")
        compiler.setup_query()
        assert compiler.get_converters([column for column, _sql, _alias in compiler.select]) == {}

    def test_query_count_without_documents(
        self, client, peru, argentina, django_assert_num_queries
    ):
        """A listing with no file reads none: whether it has any comes with the listing."""

        listing = factories.ListingFactory(institution=peru)
        factories.ListingFactory(institution=argentina, kind="need")
        client.get(listing.get_absolute_url())
        caching.catalogue_changed()
        # The listing, then the matches (bitmaps, the institution's own listings, scores).
        with django_assert_num_queries(4):
            response = client.get(listing.get_absolute_url())
        assert response.context["documents"] == []
        assert len(response.context["matches"]) == 1

    @pytest.mark.parametrize("documents", [1, 6])
    def test_query_count_for_its_publisher(
        self, client, peru, focal_point, draft_data, django_assert_num_queries, documents
    ):
        """What only the publisher sees (proposed files, returned changes, connections,
        history) costs the same for one file or many."""
        listing = factories.ListingFactory(institution=peru)
        for index in range(documents):
            upload = SimpleUploadedFile(f"x{index}.pdf", _pdf(), content_type="application/pdf")
            services.document_add(listing=listing, by=focal_point, upload=upload)
        services.listing_update(listing=listing, by=focal_point, data=draft_data(title="Nuevo"))
        client.force_login(focal_point)
        client.get(listing.get_absolute_url())
        # session, user with institution, listing (whether changes are pending), documents
        # with their revisions, own connection, open revision, history events (written
        # without a person, so none to read), unread count, connections
        with django_assert_num_queries(9):
            response = client.get(listing.get_absolute_url())
        assert len(response.context["documents"]) == documents
        assert response.context["revision"].data["title"] == "Nuevo"


class TestWriting:
    def test_focal_point_creates_and_submits(self, client, focal_point):
        client.force_login(focal_point)
        response = client.post(reverse("exchange:create", args=["offer"]), _form())
        listing = Listing.objects.get()
        assert response["Location"] == listing.get_absolute_url()
        assert (listing.status, listing.created_by) == ("draft", focal_point)
        response = client.post(reverse("exchange:submit", args=[listing.pk]))
        listing.refresh_from_db()
        assert listing.status == "submitted"

    def test_submitting_an_incomplete_listing_names_what_is_missing(
        self, client, focal_point, draft_data
    ):
        listing = services.listing_create(
            by=focal_point, kind="offer", data=draft_data(modality="", contact_email="")
        )
        client.force_login(focal_point)
        client.cookies["django_language"] = "es"
        response = client.post(reverse("exchange:submit", args=[listing.pk]))
        assert response.status_code == 400
        errors = [str(error) for error in response.context["form"].non_field_errors()]
        assert errors == [
            "Modalidad: Este campo es obligatorio para enviar la publicación a revisión.",
            "Correo electrónico de contacto: Este campo es obligatorio para enviar la "
            "publicación a revisión.",
        ]
        page = response.content.decode()
        assert f'href="{reverse("exchange:edit", args=[listing.pk])}"' in page
        listing.refresh_from_db()
        assert listing.status == "draft"

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("title", ""),
            ("language", "de"),
            ("focus_areas", []),
            ("contact_email", "nope"),
            ("duration_months", "-4"),
            ("sdgs", ["9999"]),
            ("title", "x" * 201),
        ],
    )
    def test_bad_input_stores_nothing(self, client, focal_point, field, value):
        client.force_login(focal_point)
        response = client.post(reverse("exchange:create", args=["offer"]), _form(**{field: value}))
        assert response.status_code == 400
        assert response.context["form"].errors
        assert Listing.objects.count() == 0

    def test_script_in_every_text_field_is_inert(
        self, client, focal_point, secretariat, other_focal_point, draft_data
    ):
        """Every text a person writes (the listing's fields, the Secretariat's comments, an
        interest message) is shown escaped, or sanitised for Markdown, on every page that
        shows it: the listing, the catalogue, dashboards, history, inbox and admin."""
        payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
        escaped = (
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"
        )
        client.force_login(focal_point)
        client.post(
            reverse("exchange:create", args=["offer"]),
            _form(
                title=payload,
                summary=payload,
                description=payload,
                cost_sharing=payload,
                contact_name=payload,
                external_ref=payload,
            ),
        )
        listing = Listing.objects.get()
        assert listing.external_ref == payload
        services.listing_submit(listing=listing, by=focal_point, acknowledge_similar=True)
        services.listing_return(listing=listing, by=secretariat, comment=payload)
        returned_page = client.get(listing.get_absolute_url()).content.decode()
        services.listing_submit(listing=listing, by=focal_point, acknowledge_similar=True)
        services.listing_approve(listing=listing, by=secretariat)
        revision = services.listing_update(
            listing=listing, by=focal_point, data=draft_data(title=payload, summary=payload)
        )
        services.revision_return(revision=revision, by=secretariat, comment=payload)
        services.interest_express(listing=listing, by=other_focal_point, message=payload)
        pages = {"returned listing": returned_page}
        for viewer in (focal_point, secretariat, other_focal_point):
            client.force_login(viewer)
            pages[f"listing, {viewer}"] = client.get(listing.get_absolute_url()).content.decode()
        client.force_login(focal_point)
        for name in ("exchange:my_listings", "exchange:my_connections", "accounts:inbox"):
            pages[name] = client.get(reverse(name)).content.decode()
        pages["history"] = client.get(
            reverse("exchange:history", args=[listing.pk])
        ).content.decode()
        pages["edit"] = client.get(reverse("exchange:edit", args=[listing.pk])).content.decode()
        client.force_login(other_focal_point)
        pages["connections, interested"] = client.get(
            reverse("exchange:my_connections")
        ).content.decode()
        client.logout()
        pages["catalogue"] = client.get(reverse("exchange:catalogue")).content.decode()
        client.force_login(secretariat)
        for name, args in (
            ("admin:exchange_listing_change", [listing.pk]),
            ("admin:exchange_listing_changelist", []),
            ("admin:exchange_listingrevision_change", [revision.pk]),
            ("admin:exchange_connection_changelist", []),
        ):
            pages[name] = client.get(reverse(name, args=args)).content.decode()
        for name, page in pages.items():
            assert "<script>alert" not in page, name
            assert "<img src=x" not in page, name
        shown = {name for name, page in pages.items() if escaped in page}
        # The payload reaches each page as text: it was written and is displayed, inert.
        assert shown == set(pages), set(pages) - shown
        # The Secretariat's comments and the interest message, not only the listing's text.
        assert pages["returned listing"].count(escaped) >= 5
        assert "Comment of the Secretariat" in pages["returned listing"]
        assert "The Secretariat returned your changes" in pages[f"listing, {focal_point}"]

    def test_partner_cannot_open_the_need_form(self, client, partner):
        client.force_login(partner)
        assert client.get(reverse("exchange:create", args=["need"])).status_code == 403
        assert client.post(reverse("exchange:create", args=["need"]), _form()).status_code == 403
        assert Listing.objects.count() == 0

    def test_similar_listing_asks_for_confirmation(self, client, focal_point, peru):
        factories.ListingFactory(
            institution=peru,
            title="Sistema de alerta temprana ante inundaciones",
            summary="Asistencia técnica en alertas tempranas.",
        )
        client.force_login(focal_point)
        client.post(reverse("exchange:create", args=["offer"]), _form())
        listing = Listing.objects.get(status="draft")
        response = client.post(reverse("exchange:submit", args=[listing.pk]))
        assert response.status_code == 400
        assert len(response.context["similar"]) == 1
        listing.refresh_from_db()
        assert listing.status == "draft"
        client.post(reverse("exchange:submit", args=[listing.pk]), {"acknowledge_similar": "on"})
        listing.refresh_from_db()
        assert listing.status == "submitted"

    def test_editing_published_keeps_the_live_text(self, client, focal_point, peru):
        listing = factories.ListingFactory(institution=peru, title="Texto publicado")
        client.force_login(focal_point)
        client.post(reverse("exchange:edit", args=[listing.pk]), _form(title="Texto propuesto"))
        listing.refresh_from_db()
        assert listing.title == "Texto publicado"
        assert listing.revisions.get().data["title"] == "Texto propuesto"
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "waiting for the Secretariat" in page
        form = client.get(reverse("exchange:edit", args=[listing.pk]))
        assert form.context["form"]["title"].value() == "Texto propuesto"

    def test_returned_changes_come_back_with_the_comment_and_are_sent_again(
        self, client, focal_point, secretariat, peru
    ):
        listing = factories.ListingFactory(institution=peru, title="Texto publicado")
        client.force_login(focal_point)
        edit = reverse("exchange:edit", args=[listing.pk])
        client.post(edit, _form(title="Texto propuesto", duration_months=18))
        services.revision_return(
            revision=listing.revisions.get(), by=secretariat, comment="Precisen la duración."
        )
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "The Secretariat returned your changes" in page
        assert "Precisen la duración." in page
        form = client.get(edit)
        assert form.context["form"]["title"].value() == "Texto propuesto"
        assert form.context["form"]["duration_months"].value() == 18
        assert "Precisen la duración." in form.content.decode()

        client.post(edit, _form(title="Texto propuesto", duration_months=24))
        assert [(r.status, r.data["duration_months"]) for r in listing.revisions.all()] == [
            ("pending", 24),
            ("returned", 18),
        ]
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "The Secretariat returned your changes" not in page

    def test_an_expired_listing_is_edited_as_a_revision(self, client, focal_point, peru):
        listing = factories.ListingFactory(institution=peru, status="expired")
        client.force_login(focal_point)
        page = client.get(reverse("exchange:edit", args=[listing.pk])).content.decode()
        assert "This listing has expired" in page
        assert "Send changes for review" in page
        assert "Save draft" not in page


def _pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def _damaged_docx() -> bytes:
    """A DOCX with an entry whose name is marked UTF-8 but is not (zipfile raises
    UnicodeDecodeError on it, not BadZipFile)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
        archive.writestr("word/imagén.xml", "<x/>")
    return buffer.getvalue().replace("imagén".encode(), b"imag\xff\xfe")


def _png() -> bytes:
    """A one-pixel grey PNG, chunk by chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + chunk(b"IEND", b"")
    )


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", b"0" * (60 * 1024 * 1024))
    return buffer.getvalue()


class TestDocuments:
    @pytest.fixture
    def listing(self, peru):
        return factories.ListingFactory(institution=peru, status="draft")

    def _upload(self, client, listing, name, content, content_type="application/pdf"):
        return client.post(
            reverse("exchange:document_upload", args=[listing.pk]),
            {"file": SimpleUploadedFile(name, content, content_type=content_type)},
            follow=True,
        )

    def test_the_history_of_many_files_is_paged_beside_the_listings_own(
        self, client, focal_point, listing
    ):
        from exchange.views import HISTORY_PAGE_SIZE

        for number in range(HISTORY_PAGE_SIZE // 2 + 1):  # an add and a removal each
            upload = SimpleUploadedFile(f"anexo-{number}.pdf", _pdf())
            document = services.document_add(listing=listing, by=focal_point, upload=upload)
            services.document_remove(document=document, by=focal_point)
        client.force_login(focal_point)
        url = reverse("exchange:history", args=[listing.pk])
        first = client.get(url)
        assert [str(e.action) for e in first.context["documents"][:2]] == ["Removed", "Added"]
        assert first.context["documents"][0].name == f"anexo-{HISTORY_PAGE_SIZE // 2}.pdf"
        assert len(first.context["documents"]) == HISTORY_PAGE_SIZE
        assert 'href="?documents_page=2" rel="next"' in first.content.decode()
        # Paging the files keeps the page of the listing's changes, and the reverse.
        second = client.get(url, {"page": 1, "documents_page": 2})
        names = [(str(e.action), e.name) for e in second.context["documents"]]
        assert names == [("Removed", "anexo-0.pdf"), ("Added", "anexo-0.pdf")]
        page = second.content.decode()
        assert 'href="?page=1&amp;documents_page=1" rel="prev"' in page
        assert "Page 2 of 2" in page

    def test_pdf_and_docx_are_accepted_and_served_as_downloads(self, client, focal_point, listing):
        client.force_login(focal_point)
        self._upload(client, listing, "informe final.pdf", _pdf())
        self._upload(client, listing, "plan.docx", _docx(), "application/octet-stream")
        documents = list(listing.documents.order_by("id"))
        assert [(d.name, d.content_type) for d in documents] == [
            ("informe_final.pdf", "application/pdf"),
            (
                "plan.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ),
        ]
        response = client.get(reverse("exchange:document", args=[listing.pk, documents[0].pk]))
        assert response["Content-Disposition"] == 'attachment; filename="informe_final.pdf"'
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == _pdf()

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("virus.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, "Only PDF"),
            (
                "logo.svg",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
                "Only PDF",
            ),
            ("page.pdf", b"<html><script>alert(1)</script></html>", "Only PDF"),
            ("empty.pdf", b"", "empty"),
            ("bomb.xlsx", None, "expands to far more"),
            ("fake.docx", b"PK\x03\x04 not really a zip", "Only PDF"),
            ("damaged.docx", "damaged", "Only PDF"),
        ],
    )
    def test_disguised_or_hostile_files_are_refused(
        self, client, focal_point, listing, name, content, message
    ):
        client.force_login(focal_point)
        content = {None: _zip_bomb, "damaged": _damaged_docx}.get(content, lambda: content)()
        response = self._upload(client, listing, name, content)
        assert message in response.content.decode()
        assert ListingDocument.objects.count() == 0

    def test_oversize_is_refused(self, client, focal_point, listing):
        client.force_login(focal_point)
        response = self._upload(client, listing, "big.pdf", _pdf() + b"0" * (10 * 1024 * 1024))
        assert "larger than 10 MB" in response.content.decode()
        assert ListingDocument.objects.count() == 0

    def test_documents_of_a_draft_are_hidden_from_others(
        self, client, focal_point, other_focal_point, listing
    ):
        client.force_login(focal_point)
        self._upload(client, listing, "informe.pdf", _pdf())
        document = listing.documents.get()
        client.force_login(other_focal_point)
        assert (
            client.get(reverse("exchange:document", args=[listing.pk, document.pk])).status_code
            == 404
        )
        assert (
            client.post(
                reverse("exchange:document_delete", args=[listing.pk, document.pk])
            ).status_code
            == 404
        )
        assert ListingDocument.objects.count() == 1

    def test_xlsx_and_images_are_accepted(self, client, focal_point, listing):
        client.force_login(focal_point)
        workbook = io.BytesIO()
        openpyxl.Workbook().save(workbook)
        self._upload(client, listing, "cifras.xlsx", workbook.getvalue(), "text/plain")
        self._upload(client, listing, "foto.png", _png(), "application/pdf")
        assert [(d.name, d.content_type) for d in listing.documents.order_by("id")] == [
            ("cifras.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("foto.png", "image/png"),
        ]


def _status(client, url: str) -> int:
    response = client.get(url)
    if response.streaming:
        b"".join(response.streaming_content)  # read to the end, which closes the file
    return response.status_code


class TestDocumentsOfAPublishedListing:
    """A file added to a published listing is a change: it waits for the Secretariat."""

    @pytest.fixture
    def listing(self, peru):
        return factories.ListingFactory(institution=peru)

    def _propose(self, client, focal_point, listing, name="anexo.pdf"):
        client.force_login(focal_point)
        response = client.post(
            reverse("exchange:document_upload", args=[listing.pk]),
            {"file": SimpleUploadedFile(name, _pdf(), content_type="application/pdf")},
            follow=True,
        )
        assert "public once the Secretariat approves them" in response.content.decode()
        return listing.documents.get(name=name)

    def test_a_new_file_is_proposed_and_hidden_until_approved(
        self,
        client,
        focal_point,
        other_focal_point,
        secretariat,
        listing,
        django_capture_on_commit_callbacks,
    ):
        document = self._propose(client, focal_point, listing)
        revision = ListingRevision.objects.get(listing=listing, status="pending")
        assert document.revision == revision
        # The revision proposes the live text unchanged, and the file.
        assert revision.data["title"] == listing.title
        download = reverse("exchange:document", args=[listing.pk, document.pk])
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "anexo.pdf" in page
        assert "Proposed: public once the Secretariat" in page
        for reader in (other_focal_point, None):
            client.logout()
            if reader:
                client.force_login(reader)
            assert "anexo.pdf" not in client.get(listing.get_absolute_url()).content.decode()
            assert _status(client, download) == 404

        client.force_login(secretariat)
        admin_page = client.get(
            reverse("admin:exchange_listingrevision_change", args=[revision.pk])
        ).content.decode()
        assert "Documents proposed with these changes" in admin_page
        assert download in admin_page
        assert _status(client, download) == 200
        # Committed, the approval changes what visitors see (their page is cached until then).
        with django_capture_on_commit_callbacks(execute=True):
            services.revision_approve(revision=revision, by=secretariat)

        client.logout()
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "anexo.pdf" in page
        assert "Proposed" not in page
        assert _status(client, download) == 200

    def test_a_rejected_file_is_deleted_with_its_content(
        self, client, focal_point, secretariat, listing, django_capture_on_commit_callbacks
    ):
        document = self._propose(client, focal_point, listing)
        storage, path = document.file.storage, document.file.name
        with django_capture_on_commit_callbacks(execute=True):
            services.revision_reject(
                revision=document.revision, by=secretariat, comment="No es pertinente."
            )
        assert not ListingDocument.objects.filter(pk=document.pk).exists()
        assert not storage.exists(path)

    def test_a_returned_file_is_proposed_again_with_the_next_changes(
        self, client, focal_point, secretariat, listing, draft_data
    ):
        document = self._propose(client, focal_point, listing)
        services.revision_return(
            revision=document.revision, by=secretariat, comment="Añadan el presupuesto."
        )
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "Proposed with changes the Secretariat returned" in page
        revision = services.listing_update(
            listing=listing, by=focal_point, data=draft_data(title="Con presupuesto")
        )
        document.refresh_from_db()
        assert (document.revision, revision.data["title"]) == (revision, "Con presupuesto")

    def test_the_history_follows_each_file(
        self, client, focal_point, secretariat, listing, django_capture_on_commit_callbacks
    ):
        kept = self._propose(client, focal_point, listing, name="presupuesto.pdf")
        services.revision_approve(revision=kept.revision, by=secretariat)
        refused = self._propose(client, focal_point, listing, name="borrador.pdf")
        with django_capture_on_commit_callbacks(execute=True):
            services.revision_reject(
                revision=refused.revision, by=secretariat, comment="No corresponde."
            )
            services.document_remove(document=listing.documents.get(), by=focal_point)
        response = client.get(reverse("exchange:history", args=[listing.pk]))
        rows = [
            (str(event.action), event.actor, event.name) for event in response.context["documents"]
        ]
        assert rows == [
            ("Removed", focal_point, "presupuesto.pdf"),
            ("Rejected with the changes", secretariat, "borrador.pdf"),
            ("Proposed with changes", focal_point, "borrador.pdf"),
            ("Approved with the changes", secretariat, "presupuesto.pdf"),
            ("Proposed with changes", focal_point, "presupuesto.pdf"),
        ]
        client.cookies["django_language"] = "es"
        page = client.get(reverse("exchange:history", args=[listing.pk])).content.decode()
        assert "<td>Aprobado con los cambios</td>" in page

    def test_withdrawing_the_listing_makes_the_file_its_own(self, client, focal_point, listing):
        document = self._propose(client, focal_point, listing)
        services.listing_withdraw(listing=listing, by=focal_point)
        document.refresh_from_db()
        assert document.revision is None
        assert ListingRevision.objects.get(listing=listing).status == "withdrawn"


class TestInterestAndDashboards:
    def test_interest_from_the_page(self, client, peru, other_focal_point, focal_point):
        listing = factories.ListingFactory(institution=peru)
        client.force_login(other_focal_point)
        client.post(reverse("exchange:interest", args=[listing.pk]), {"message": "Nos interesa."})
        connection = Connection.objects.get()
        assert connection.institution == other_focal_point.institution
        page = client.get(listing.get_absolute_url()).content.decode()
        assert "the connection is: Interested" in page
        own = client.get(reverse("exchange:my_connections")).content.decode()
        assert listing.title in own
        assert "Interested" in own
        client.force_login(focal_point)
        page = client.get(reverse("exchange:my_connections")).content.decode()
        assert other_focal_point.institution.name in page
        client.post(
            reverse("exchange:connection_move", args=[connection.pk]), {"status": "in_talks"}
        )
        connection.refresh_from_db()
        assert connection.status == "in_talks"

    def _connection(self, peru, other_focal_point, status="in_talks"):
        listing = factories.ListingFactory(institution=peru)
        return Connection.objects.create(
            listing=listing,
            institution=other_focal_point.institution,
            created_by=other_focal_point,
            message="Nos interesa.",
            status=status,
        )

    def test_closing_asks_for_confirmation_first(
        self, client, peru, focal_point, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point)
        client.force_login(focal_point)
        url = reverse("exchange:connection_move", args=[connection.pk])
        response = client.post(url, {"status": "closed"})
        page = response.content.decode()
        assert response.status_code == 200
        assert f"Mark the connection on “{connection.listing.title}” as “Closed”?" in page
        assert "This step is final" in page
        connection.refresh_from_db()
        assert connection.status == "in_talks"
        assert not other_focal_point.notifications.exists()
        response = client.post(url, {"status": "closed", "confirm": "1"})
        assert response.status_code == 302
        connection.refresh_from_db()
        assert connection.status == "closed"
        page = client.get(reverse("exchange:my_connections")).content.decode()
        assert "The connection was updated." in page

    def test_no_confirmation_is_asked_for_a_step_that_would_be_refused(
        self, client, peru, focal_point, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point, status="closed")
        client.force_login(focal_point)
        response = client.post(
            reverse("exchange:connection_move", args=[connection.pk]),
            {"status": "completed"},
            follow=True,
        )
        page = response.content.decode()
        assert response.redirect_chain == [(reverse("exchange:my_connections"), 302)]
        assert "This step is final" not in page
        assert "This connection cannot move from Closed to Completed." in page
        connection.refresh_from_db()
        assert connection.status == "closed"
        assert not other_focal_point.notifications.exists()

    def test_a_reader_who_may_not_move_it_is_not_asked_to_confirm(
        self, client, peru, board_member, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point)
        client.force_login(board_member)
        response = client.post(
            reverse("exchange:connection_move", args=[connection.pk]), {"status": "closed"}
        )
        assert response.status_code == 404
        connection.refresh_from_db()
        assert connection.status == "in_talks"

    def test_a_step_that_is_not_final_needs_no_confirmation(
        self, client, peru, focal_point, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point)
        client.force_login(focal_point)
        response = client.post(
            reverse("exchange:connection_move", args=[connection.pk]), {"status": "agreed"}
        )
        assert response.status_code == 302
        connection.refresh_from_db()
        assert connection.status == "agreed"

    def test_the_other_side_is_told_of_each_step_in_its_language(
        self, client, peru, focal_point, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point, status="in_execution")
        client.force_login(focal_point)
        client.post(
            reverse("exchange:connection_move", args=[connection.pk]),
            {"status": "completed", "confirm": "1"},
        )
        note = other_focal_point.notifications.get()
        assert (note.kind, note.params, note.url) == (
            "connection_updated",
            {"title": connection.listing.title, "status": "completed"},
            connection.listing.get_absolute_url(),
        )
        assert not focal_point.notifications.exists()
        client.force_login(other_focal_point)
        client.cookies["django_language"] = "es"
        inbox = client.get(reverse("accounts:inbox")).content.decode()
        assert (
            f"Nuevo estado de la vinculación sobre “{connection.listing.title}”: Finalizada"
            in inbox
        )

    def test_an_illegal_step_is_refused_with_a_message(
        self, client, peru, focal_point, other_focal_point
    ):
        connection = self._connection(peru, other_focal_point, status="interested")
        client.force_login(focal_point)
        response = client.post(
            reverse("exchange:connection_move", args=[connection.pk]),
            {"status": "in_execution"},
            follow=True,
        )
        assert "cannot move from Interested to In execution" in response.content.decode()
        connection.refresh_from_db()
        assert connection.status == "interested"
        assert not other_focal_point.notifications.exists()

    def test_empty_message_changes_nothing(self, client, peru, other_focal_point):
        listing = factories.ListingFactory(institution=peru)
        client.force_login(other_focal_point)
        client.post(reverse("exchange:interest", args=[listing.pk]), {"message": "  "})
        assert Connection.objects.count() == 0

    def test_my_listings_are_paged(self, client, focal_point, peru):
        factories.ListingFactory.create_batch(53, institution=peru, created_by=focal_point)
        client.force_login(focal_point)
        first = client.get(reverse("exchange:my_listings"))
        assert len(first.context["listings"]) == 50
        assert 'href="?page=2"' in first.content.decode()
        second = client.get(reverse("exchange:my_listings"), {"page": 2})
        assert len(second.context["listings"]) == 3
        assert "Page 2 of 2" in second.content.decode()
        assert {listing.pk for listing in second.context["listings"]}.isdisjoint(
            listing.pk for listing in first.context["listings"]
        )

    @pytest.mark.parametrize("rows", [1, 12])
    def test_my_listings_query_count(
        self, client, focal_point, peru, django_assert_num_queries, rows
    ):
        factories.ListingFactory.create_batch(rows, institution=peru, created_by=focal_point)
        client.force_login(focal_point)
        client.get(reverse("exchange:my_listings"))
        # session, user, institution, count, one page of listings with authors, unread count
        with django_assert_num_queries(6):
            response = client.get(reverse("exchange:my_listings"))
        assert len(response.context["listings"]) == min(rows, 50)

    @pytest.mark.parametrize("rows", [1, 8])
    def test_my_connections_query_count(
        self, client, focal_point, peru, django_assert_num_queries, rows
    ):
        for _ in range(rows):
            other = factories.AuthorityFactory(
                country=factories.Country.objects.exclude(institutions__isnull=False).first()
            )
            listing = factories.ListingFactory(institution=peru)
            Connection.objects.create(
                listing=listing, institution=other, created_by=focal_point, message="m"
            )
        client.force_login(focal_point)
        client.get(reverse("exchange:my_connections"))
        # session, user, institution, count, connections with both institutions, unread count
        with django_assert_num_queries(6):
            response = client.get(reverse("exchange:my_connections"))
        assert len(response.context["connections"]) == rows


def test_country_profile(client, peru, focal_point):
    factories.ListingFactory.create_batch(2, institution=peru)
    factories.ListingFactory(institution=peru, kind="need")
    factories.ListingFactory(institution=peru, status="draft")
    response = client.get(reverse("exchange:country", args=["per"]))
    profile = response.context["profile"]
    assert (profile.offer_count, profile.need_count, profile.authority) == (2, 1, peru)
    assert "Designated" in response.content.decode()
    assert client.get(reverse("exchange:country", args=["XXX"])).status_code == 404


def test_country_profile_links_to_the_rest_of_its_needs(client, peru):
    factories.ListingFactory.create_batch(21, institution=peru, kind="need")
    page = client.get(reverse("exchange:country", args=["PER"])).content.decode()
    assert "All needs in the catalogue" in page
    assert "?country=PER&amp;kind=need" in page
    assert "All offers in the catalogue" not in page


class TestInstitutionProfile:
    def test_publisher_profile(self, client, partner):
        institution = partner.institution
        institution.description = "Formación docente <b>en línea</b>."
        institution.website = "https://fundacion.example.org"
        institution.save()
        listing = factories.ListingFactory(institution=institution)
        factories.ListingFactory(institution=institution, status="draft", title="Borrador")
        page = client.get(listing.get_absolute_url()).content.decode()
        url = reverse("exchange:institution", args=[institution.pk])
        assert f'href="{url}"' in page
        response = client.get(url)
        assert (response.context["page"].paginator.count, response.status_code) == (1, 200)
        body = response.content.decode()
        assert "&lt;b&gt;en línea&lt;/b&gt;" in body
        assert "Borrador" not in body
        assert "Institutional account" not in body  # a partner has no designation

    def test_an_authoritys_page_says_whether_its_account_is_designated(self, client, peru):
        page = client.get(reverse("exchange:institution", args=[peru.pk])).content.decode()
        label = peru.get_designation_status_display()
        assert f"<dt>Institutional account</dt><dd>{label}</dd>" in page

    def test_every_listing_is_reached_a_page_at_a_time(self, client, peru):
        from exchange.views import PROFILE_PAGE_SIZE

        listings = factories.ListingFactory.create_batch(PROFILE_PAGE_SIZE + 1, institution=peru)
        url = reverse("exchange:institution", args=[peru.pk])
        first = client.get(url)
        assert len(first.context["listings"]) == PROFILE_PAGE_SIZE
        body = first.content.decode()
        assert f"<dd>{PROFILE_PAGE_SIZE + 1}</dd>" in body
        assert 'href="?page=2" rel="next"' in body
        second = client.get(url, {"page": 2})
        shown = {*first.context["listings"], *second.context["listings"]}
        assert shown == set(listings)

    def test_unvetted_partner_has_no_public_page(self, client, pending_partner):
        url = reverse("exchange:institution", args=[pending_partner.institution.pk])
        assert client.get(url).status_code == 404

    @pytest.mark.parametrize("rows", [1, 10])
    def test_query_count(self, client, peru, django_assert_num_queries, rows):
        factories.ListingFactory.create_batch(rows, institution=peru)
        url = reverse("exchange:institution", args=[peru.pk])
        client.get(url)
        # institution with country, listings, count
        with django_assert_num_queries(3):
            client.get(url)


@pytest.mark.parametrize("rows", [1, 10])
def test_country_profile_query_count(
    client, peru, other_focal_point, django_assert_num_queries, rows
):
    from exchange.models import Connection

    listings = factories.ListingFactory.create_batch(rows, institution=peru)
    factories.ListingFactory.create_batch(rows, institution=peru, kind="need")
    for listing in listings:
        Connection.objects.create(
            listing=listing,
            institution=other_focal_point.institution,
            created_by=other_focal_point,
            message="m",
        )
    url = reverse("exchange:country", args=["PER"])
    # country, authority, offers, needs, counts by kind, connections
    with django_assert_num_queries(6):
        response = client.get(url)
    assert (
        response.context["profile"].offer_count,
        response.context["profile"].connection_count,
    ) == (rows, rows)


@pytest.mark.parametrize("proposals", [1, 4])
def test_history_page_query_count_with_changes_proposed_once_published(
    client, focal_point, secretariat, draft_data, django_assert_num_queries, proposals
):
    from exchange import services

    listing = services.listing_create(by=focal_point, kind="offer", data=draft_data())
    services.listing_submit(listing=listing, by=focal_point)
    services.listing_approve(listing=listing, by=secretariat)
    for number in range(proposals):
        revision = services.listing_update(
            listing=listing, by=focal_point, data=draft_data(title=f"Propuesta {number}")
        )
        services.revision_return(revision=revision, by=secretariat, comment="Precisen.")
    client.force_login(focal_point)
    url = reverse("exchange:history", args=[listing.pk])
    client.get(url)
    # session, user, listing (+ institution, whether changes are pending, whether it has
    # files: none, so no query for them), count, a page of events with their contexts, the
    # event before the page, the changes proposed (count, a page with their contexts), the
    # changes to its files counted, the people behind them all, unread count
    with django_assert_num_queries(11):
        response = client.get(url)
    assert len(response.context["revisions"]) == 2 * proposals
    assert {event.actor for event in response.context["revisions"]} == {focal_point, secretariat}


@pytest.mark.parametrize("edits", [1, 6])
def test_history_page_query_count(
    client, focal_point, draft_data, django_assert_num_queries, edits
):
    from exchange import services

    listing = services.listing_create(by=focal_point, kind="offer", data=draft_data())
    for number in range(edits):
        services.listing_update(
            listing=listing, by=focal_point, data=draft_data(title=f"Versión {number}")
        )
    client.force_login(focal_point)
    url = reverse("exchange:history", args=[listing.pk])
    client.get(url)
    # session, user, listing (+ institution, whether changes are pending, whether it has
    # files: none, so no query for them), count, a page of events with their contexts, the
    # event before the page (to compare with), the changes proposed once published and those
    # to its files counted (none: no page of them read), the people behind them, unread count
    with django_assert_num_queries(10):
        response = client.get(url)
    assert len(response.context["events"]) == edits + 1
    assert response.context["events"][0].actor == focal_point


def test_history_keeps_every_proposal_and_decision_once_published(
    client, focal_point, secretariat, draft_data
):
    from exchange import services

    listing = services.listing_create(by=focal_point, kind="offer", data=draft_data())
    services.listing_submit(listing=listing, by=focal_point)
    services.listing_approve(listing=listing, by=secretariat)
    first = services.listing_update(listing=listing, by=focal_point, data=draft_data(title="Uno"))
    services.listing_update(listing=listing, by=focal_point, data=draft_data(title="Dos"))
    services.revision_return(revision=first, by=secretariat, comment="Precisen el costo.")
    second = services.listing_update(listing=listing, by=focal_point, data=draft_data(title="Tres"))
    services.revision_reject(revision=second, by=secretariat, comment="No corresponde.")
    third = services.listing_update(
        listing=listing, by=focal_point, data=draft_data(title="Cuatro")
    )
    services.revision_approve(revision=third, by=secretariat)
    client.force_login(focal_point)
    response = client.get(reverse("exchange:history", args=[listing.pk]))
    rows = [
        (str(e.action), e.actor, e.data["title"], e.comment) for e in response.context["revisions"]
    ]
    assert rows == [
        ("Changes approved", secretariat, "Cuatro", ""),
        ("Changes proposed", focal_point, "Cuatro", ""),
        ("Changes rejected", secretariat, "Tres", "No corresponde."),
        ("Changes proposed", focal_point, "Tres", ""),
        ("Changes returned with comments", secretariat, "Dos", "Precisen el costo."),
        ("Changes proposed again", focal_point, "Dos", ""),
        ("Changes proposed", focal_point, "Uno", ""),
    ]
    client.cookies["django_language"] = "es"
    page = client.get(reverse("exchange:history", args=[listing.pk])).content.decode()
    assert "<td>Cambios rechazados</td>" in page
    assert "No corresponde." in page


def test_history_reads_in_the_readers_language_and_is_paged(
    client, focal_point, secretariat, draft_data
):
    from exchange import services

    listing = services.listing_create(by=focal_point, kind="offer", data=draft_data())
    services.listing_submit(listing=listing, by=focal_point)
    services.listing_return(listing=listing, by=secretariat, comment="Precisen el costo.")
    for number in range(50):
        services.listing_update(
            listing=listing, by=focal_point, data=draft_data(title=f"Versión {number}")
        )
    client.force_login(focal_point)
    url = reverse("exchange:history", args=[listing.pk])
    client.cookies["django_language"] = "es"
    first = client.get(url).content.decode()
    assert "Edición" in first
    assert 'href="?page=2"' in first
    # The last event of a page is compared with the first of the next.
    title = draft_data().values["title"]
    assert f"Título: <del>{title}</del> → <ins>Versión 0</ins>" in first, first
    last = client.get(url, {"page": 2}).content.decode()
    for label in ("Creación", "Enviada a revisión", "Devuelta con comentarios", "Borrador"):
        assert label in last
    assert ">return<" not in last


def test_a_listing_with_a_proposed_document_can_still_be_deleted(peru, focal_point):
    """Listings are archived, not deleted, but a cascade (an institution removed for good)
    must not be blocked by a file waiting with a revision."""
    listing = factories.ListingFactory(institution=peru)
    upload = SimpleUploadedFile("anexo.pdf", _pdf(), content_type="application/pdf")
    document = services.document_add(listing=listing, by=focal_point, upload=upload)
    assert document.is_proposed
    listing.delete()
    assert not ListingDocument.objects.filter(pk=document.pk).exists()
    assert not ListingRevision.objects.exists()


def test_history_shows_what_each_change_changed(client, focal_point, secretariat, draft_data):
    from exchange import services

    listing = services.listing_create(
        by=focal_point, kind="offer", data=draft_data(title="Alerta temprana", sdgs=[13])
    )
    services.listing_update(
        listing=listing,
        by=focal_point,
        data=draft_data(
            title="Alerta temprana en cuencas",
            description="Otro texto, más largo.",
            sdgs=[6, 13],
            focus_areas=["sustainable-development-environment", "smes"],
        ),
    )
    services.listing_submit(listing=listing, by=focal_point)
    services.listing_return(listing=listing, by=secretariat, comment="Precisen el costo.")
    client.force_login(focal_point)
    response = client.get(reverse("exchange:history", args=[listing.pk]))
    returned, submitted, edited, created = response.context["events"]
    assert submitted.changes == []
    assert [change.label for change in edited.changes] == [
        "title",
        "description",
        "focus areas",
        "Sustainable Development Goals",
    ]
    assert created.changes == []
    assert [(c.label, c.old, c.new) for c in returned.changes] == [
        ("comment of the Secretariat", "", "Precisen el costo.")
    ]
    page = response.content.decode()
    assert "Title: <del>Alerta temprana</del> → <ins>Alerta temprana en cuencas</ins>" in page
    assert "<li>Description: new text</li>" in page
    assert "Otro texto" not in page
    assert "<ins>6. Clean Water and Sanitation, 13. Climate Action</ins>" in page
    assert "Comment of the Secretariat: <del>—</del> → <ins>Precisen el costo.</ins>" in page
