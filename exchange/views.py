"""Pages of the exchange. Thin: selectors read, services write, rules decide; a listing a
person may not see answers 404."""

from __future__ import annotations

import csv
import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rules.contrib.views import permission_required

from accounts.forms import add_service_errors
from accounts.models import Country
from exchange import (
    caching,
    exports,
    imports,
    matching,
    selectors,
    services,
    statistics,
    tabular,
)
from exchange import catalogue as published  # the view below is named catalogue
from exchange.forms import (
    CatalogueForm,
    ConnectionStatusForm,
    DocumentForm,
    ImportMappingForm,
    ImportUploadForm,
    InterestForm,
    ListingForm,
    SubmitForm,
)
from exchange.models import (
    Connection,
    ImportJob,
    Listing,
    ListingDocument,
    country_paths,
    listing_paths,
)
from exchange.revisions import with_changes
from exchange.rules import REVISED_STATUSES
from exchange.services import ListingData, SimilarListingsFound
from exchange.text import highlight, rendered_markdown

DASHBOARD_PAGE_SIZE = 50
HISTORY_PAGE_SIZE = 50
PROFILE_PAGE_SIZE = 20


def _listing(request: HttpRequest, pk: int, permission: str | None = None) -> Listing:
    listing = selectors.listing_for_page(request.user, pk)
    if listing is None or (permission and not request.user.has_perm(permission, listing)):
        raise Http404
    return listing


# --- Catalogue -------------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    """The published catalogue: facets, text search, sorting, pages. htmx swaps the results."""
    form = CatalogueForm(request.GET)
    query, ignored = form.to_query(request.GET)
    page = published.catalogue(query, _filter_column_key(query))
    ref = selectors.reference()
    context = {
        "page": page,
        "cards": _cards(page, ref),
        "query": query,
        "ignored": ignored,
        "facets_html": _facets_html(page, ref),
    }
    template = "exchange/catalogue.html#results" if request.htmx else "exchange/catalogue.html"
    return render(request, template, context)


def _cards(page: published.CataloguePage, ref: selectors.Reference) -> list[dict]:
    """What each result shows, as plain values in the active language, with the words of a
    text query highlighted. The template reads a dict key in one step, where each attribute,
    property or method of a model instance costs it several lookups: 20 results took 4.7 ms
    to render from the listings, and take 1.1 ms to build and 1.4 ms to render as these."""
    q = page.query.q
    # Labels, names and links looked up once per page, not once per result.
    kinds = {value: str(label) for value, label in Listing.Kind.choices}
    names = ref.names()
    areas = names.focus_areas
    countries: dict[int | None, tuple[str, str]] = {None: ("", "")}
    path_of, country_path_of = listing_paths(), country_paths()
    cards = []
    for row in page.listings:
        if row.country_id not in countries:
            country = ref.countries.get(row.country_id)
            countries[row.country_id] = (
                (names.countries[country.pk], country_path_of(country.iso3))
                if country
                else ("", "")
            )
        country_name, country_url = countries[row.country_id]
        cards.append(
            {
                "kind": row.kind,
                "kind_label": kinds.get(row.kind, row.kind),
                "country": country_name,
                "country_url": country_url,
                "institution": row.institution,
                "url": path_of(row.pk),
                "language": row.language,
                "heading": highlight(row.title, q, length=300) if q else row.title,
                "snippet": highlight(row.summary, q) if q else row.summary,
                "areas": " · ".join(areas[pk] for pk in row.focus_area_ids if pk in areas),
            }
        )
    return cards


def _facets_html(page: published.CataloguePage, ref: selectors.Reference) -> str:
    """The filter column, rendered once per filters, language and catalogue version: it is
    most of the page's template work and changes only when the catalogue does."""
    html = caching.catalogue_cached(
        _filter_column_key(page.query),
        lambda: render_to_string("exchange/_facets.html", {"facets": _facet_options(page, ref)}),
    )
    return mark_safe(html)  # noqa: S308 - rendered by our own autoescaping template


def _filter_column_key(query: published.CatalogueQuery) -> str:
    return f"facets-html:{query.cache_key()}:{translation.get_language()}"


def _facet_options(page: published.CataloguePage, ref: selectors.Reference) -> list[dict]:
    """Each facet's values with labels, counts and whether chosen, for the filter form."""
    query = page.query
    names = ref.names()
    labels = {
        "kind": (_("Type"), {value: label for value, label in Listing.Kind.choices}),
        "publisher_type": (_("Publisher"), dict(Listing.PublisherType.choices)),
        "country": (_("Country"), names.countries),
        "focus_area": (_("Focus area"), names.focus_areas),
        "sdg": (_("SDG"), names.sdgs),
        "modality": (_("Modality"), dict(Listing.Modality.choices)),
        "cooperation_type": (_("Type of cooperation"), dict(Listing.CooperationType.choices)),
        "language": (_("Language"), dict(Listing.Language.choices)),
    }
    param_values = {
        "country": {c.pk: c.iso3 for c in ref.countries.values()},
        "focus_area": {a.pk: a.slug for a in ref.focus_areas.values()},
    }
    options = []
    for name, (title, names) in labels.items():
        counts = page.facets.get(name, {})
        chosen = set(getattr(query, name))
        values = [
            {
                "value": param_values.get(name, {}).get(key, key),
                "label": names.get(key, key),
                "count": counts.get(key, 0),
                "checked": key in chosen,
            }
            for key in names
            if counts.get(key) or key in chosen
        ]
        if name == "country":
            values.sort(key=lambda option: option["label"])
        options.append({"name": name, "title": title, "values": values})
    return options


# --- A listing -------------------------------------------------------------------------------


def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # A visitor's page reads the listing and its matches from the cache: in one round trip.
    caching.catalogue_prefetch(selectors.listing_key(pk), matching.matches_key(pk))
    listing = _listing(request, pk)
    user = request.user
    ref = selectors.reference()
    connection = None
    is_publisher = user.has_perm("exchange.submit_listing", listing)
    if user.is_authenticated and user.institution_id:
        connection = listing.connections.filter(institution_id=user.institution_id).first()
    return render(
        request,
        "exchange/listing_detail.html",
        {
            "listing": listing,
            "description": rendered_markdown(listing.description),
            "focus_areas": [
                ref.focus_areas[pk] for pk in listing.focus_area_ids if pk in ref.focus_areas
            ],
            "sdgs": [ref.sdgs[n] for n in listing.sdg_numbers if n in ref.sdgs],
            "beneficiaries": [
                ref.countries[pk] for pk in listing.beneficiary_ids if pk in ref.countries
            ],
            "regions": [
                Listing.Region(region).label
                for region in listing.beneficiary_regions
                if region in Listing.Region.values
            ],
            "matches": matching.matches_for(listing) if listing.is_public else [],
            "interest_form": InterestForm(),
            "connection": connection,
            "is_publisher": is_publisher,
            "revision": selectors.open_revision(listing) if is_publisher else None,
            "can_manage_documents": user.has_perm("exchange.manage_documents", listing),
            "documents": selectors.documents_visible_to(user, listing),
            "connections": (
                selectors.connections_of(listing.institution).filter(listing=listing)
                if is_publisher
                else []
            ),
            "history": (
                selectors.described_events(selectors.listing_events(listing)[:5])
                if user.has_perm("exchange.view_listing_history", listing)
                else []
            ),
            "document_form": DocumentForm(),
        },
    )


@login_required
def listing_history(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.view_listing_history")
    events = selectors.listing_events(listing)
    page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    # Each event is compared with the one before it: the last of the page with the next
    # page's first.
    older = next(iter(events[page.end_index() : page.end_index() + 1]), None)
    documents_page = Paginator(selectors.document_events(listing), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("documents_page")
    )
    revisions_page = Paginator(selectors.revision_events(listing), HISTORY_PAGE_SIZE).get_page(
        request.GET.get("revisions_page")
    )
    documents, revisions = list(documents_page), list(revisions_page)
    return render(
        request,
        "exchange/listing_history.html",
        {
            "listing": listing,
            "page": page,
            "events": with_changes(selectors.described_events(page, documents, revisions), older),
            "revisions_page": revisions_page,
            "revisions": revisions,
            "documents_page": documents_page,
            "documents": documents,
        },
    )


@login_required
def listing_create(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in Listing.Kind.values:
        raise Http404
    permission = "exchange.create_need" if kind == Listing.Kind.NEED else "exchange.create_listing"
    if not request.user.has_perm(permission):
        raise PermissionDenied(_("Your account cannot publish this kind of listing."))
    form = ListingForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        try:
            listing = services.listing_create(
                by=request.user, kind=kind, data=ListingData.from_cleaned(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The draft was saved. Submit it when it is ready."))
            return redirect(listing)
    return render(
        request,
        "exchange/listing_form.html",
        {"form": form, "kind": Listing.Kind(kind)},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def listing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.edit_listing")
    revised = listing.status in REVISED_STATUSES
    revision = selectors.open_revision(listing) if revised else None
    form = ListingForm.for_listing(listing, data=request.POST or None, revision=revision)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.listing_update(
                listing=listing, by=request.user, data=ListingData.from_cleaned(form.cleaned_data)
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            if isinstance(result, Listing):
                messages.success(request, _("The changes were saved."))
            else:
                messages.success(
                    request,
                    _(
                        "Your changes were sent to the Secretariat. The published text stays "
                        "until they approve them."
                    ),
                )
            return redirect(listing)
    return render(
        request,
        "exchange/listing_form.html",
        {
            "form": form,
            "listing": listing,
            "kind": Listing.Kind(listing.kind),
            "revised": revised,
            "revision": revision,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def listing_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm and submit; when similar listings exist, show them and ask again."""
    listing = _listing(request, pk, "exchange.submit_listing")
    form = SubmitForm(request.POST if request.method == "POST" else None)
    similar, incomplete = [], False
    if request.method == "POST" and form.is_valid():
        try:
            services.listing_submit(
                listing=listing,
                by=request.user,
                acknowledge_similar=form.cleaned_data["acknowledge_similar"],
            )
        except SimilarListingsFound as found:
            similar = found.similar
            form.add_error(None, found.messages)
        except ValidationError as error:
            add_service_errors(form, error, model=Listing)
            incomplete = hasattr(error, "error_dict")
        else:
            messages.success(request, _("Submitted: the Secretariat will review it."))
            return redirect(listing)
    return render(
        request,
        "exchange/listing_submit.html",
        {"listing": listing, "form": form, "similar": similar, "incomplete": incomplete},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def listing_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.withdraw_listing")
    if request.method == "POST":
        try:
            services.listing_withdraw(listing=listing, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The listing was withdrawn."))
        return redirect(listing)
    return render(request, "exchange/listing_withdraw.html", {"listing": listing})


@login_required
@require_POST
def listing_renew(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.renew_listing")
    try:
        services.listing_renew(listing=listing, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Renewed: the listing stays in the catalogue for a year."))
    return redirect(listing)


# --- Documents -------------------------------------------------------------------------------


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.manage_documents")
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document = services.document_add(
                listing=listing, by=request.user, upload=form.cleaned_data["file"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _(
                    "The document was added to your proposed changes. It will be public once "
                    "the Secretariat approves them."
                )
                if document.is_proposed
                else _("The document was added."),
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(listing)


def document_download(request: HttpRequest, pk: int, document_pk: int) -> FileResponse:
    """Always a download, with the type found at upload and no sniffing."""
    listing = _listing(request, pk)
    visible = selectors.documents_visible_to(request.user, listing)
    document = next((document for document in visible if document.pk == document_pk), None)
    if document is None:
        raise Http404
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def document_delete(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    listing = _listing(request, pk, "exchange.manage_documents")
    document = get_object_or_404(ListingDocument, pk=document_pk, listing=listing)
    if request.method == "POST":
        services.document_remove(document=document, by=request.user)
        messages.success(request, _("The document was removed."))
        return redirect(listing)
    return render(
        request, "exchange/document_delete.html", {"listing": listing, "document": document}
    )


# --- Interest and connections ----------------------------------------------------------------


@login_required
@require_POST
def express_interest(request: HttpRequest, pk: int) -> HttpResponse:
    listing = _listing(request, pk)
    if not request.user.has_perm("exchange.express_interest", listing):
        raise PermissionDenied(_("Your account cannot express interest in this listing."))
    form = InterestForm(request.POST)
    if form.is_valid():
        try:
            services.interest_express(
                listing=listing, by=request.user, message=form.cleaned_data["message"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("Your interest was sent. Follow it in your dashboard's connections.")
            )
    else:
        messages.error(request, _("Write a message to the publisher."))
    return redirect(listing)


@login_required
@permission_required("exchange.view_dashboard_listings", raise_exception=True)
def my_listings(request: HttpRequest) -> HttpResponse:
    # An import can bring thousands of drafts: the table is paged, and reads no long text.
    listings = selectors.dashboard_listings(request.user).defer(*selectors.LONG_FIELDS)
    page = Paginator(listings, DASHBOARD_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/my_listings.html",
        {"page": page, "listings": page.object_list, "may_import": _may_import(request.user)},
    )


@login_required
@permission_required("exchange.view_dashboard_listings", raise_exception=True)
def my_connections(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.connections_of(request.user.institution), DASHBOARD_PAGE_SIZE)
    page = page.get_page(request.GET.get("page"))
    connections = list(page.object_list)
    for connection in connections:
        connection.next_statuses = [
            (status, Connection.Status(status).label)
            for status in Connection.TRANSITIONS[connection.status]
        ]
    return render(
        request, "exchange/my_connections.html", {"page": page, "connections": connections}
    )


@login_required
@require_POST
def connection_move(request: HttpRequest, pk: int) -> HttpResponse:
    connection = get_object_or_404(Connection.objects.select_related("listing"), pk=pk)
    if not request.user.has_perm("exchange.view_connection", connection):
        raise Http404
    form = ConnectionStatusForm(request.POST)
    if form.is_valid():
        status = form.cleaned_data["status"]
        try:
            if not Connection.TRANSITIONS[status] and "confirm" not in request.POST:
                # Completed and closed are final: neither side can move the connection again,
                # so the step is confirmed first, when the service would take it.
                services.connection_move_check(
                    connection=connection, by=request.user, status=status
                )
                return render(
                    request,
                    "exchange/connection_confirm.html",
                    {
                        "connection": connection,
                        "status": status,
                        "label": Connection.Status(status).label,
                    },
                )
            services.connection_move(connection=connection, by=request.user, status=status)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        except PermissionDenied:
            raise Http404 from None
        else:
            messages.success(request, _("The connection was updated."))
    else:
        messages.error(request, _("Choose a valid next step."))
    return redirect("exchange:my_connections")


# --- Country profiles and statistics ---------------------------------------------------------


def institution_profile(request: HttpRequest, pk: int) -> HttpResponse:
    institution = get_object_or_404(selectors.public_institutions(), pk=pk)
    profile = selectors.institution_profile(institution)
    page = Paginator(profile.listings, PROFILE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "exchange/institution_profile.html",
        {"profile": profile, "page": page, "listings": page.object_list},
    )


def country_profile(request: HttpRequest, iso3: str) -> HttpResponse:
    country = get_object_or_404(Country, iso3=iso3.upper())
    return render(
        request, "exchange/country_profile.html", {"profile": selectors.country_profile(country)}
    )


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def statistics_page(request: HttpRequest) -> HttpResponse:
    since, until = _date(request.GET.get("since")), _date(request.GET.get("until"))
    invalid = bool(request.GET.get("since") and not since) or bool(
        request.GET.get("until") and not until
    )
    caching.catalogue_prefetch(statistics.cache_key(since, until))
    return render(
        request,
        "exchange/statistics.html",
        {
            "stats": statistics.statistics(since=since, until=until),
            "since": since,
            "until": until,
            "invalid_dates": invalid,
            "query": request.GET.urlencode(),
        },
    )


def statistics_csv(request: HttpRequest, table: str) -> HttpResponse:
    stats = statistics.statistics(
        since=_date(request.GET.get("since")), until=_date(request.GET.get("until"))
    )
    tables = {t.name: t for t in stats.tables()}
    if table not in tables:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cooperanet-{table}.csv"'
    writer = csv.writer(response)
    writer.writerow([_("Code"), _("Label"), _("Listings"), _("Percentage of listings")])
    for row in tables[table].rows:
        writer.writerow([row.key, tabular.neutralise(row.label), row.count, row.percentage])
    writer.writerow(["", _("Total"), tables[table].total, ""])
    return response


# --- Exports ---------------------------------------------------------------------------------


def _export(request: HttpRequest, listings, fmt: str) -> HttpResponse:
    if fmt not in exports.FORMATS:
        raise Http404
    return exports.download(request, listings, fmt)


def catalogue_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The catalogue's listings under the page's filters, all pages, as CSV, XLSX or JSON."""
    query, _ignored = CatalogueForm(request.GET).to_query(request.GET)
    return _export(request, published.catalogue_listings(query), fmt)


@login_required
@permission_required("exchange.view_dashboard_listings", raise_exception=True)
def my_listings_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The dashboard's listings (drafts included), in the format the import reads back."""
    return _export(request, selectors.dashboard_listings(request.user), fmt)


# --- Imports ---------------------------------------------------------------------------------


def _may_import(user) -> bool:
    """Someone who imports for an institution: its own people, or the Secretariat for any."""
    return user.has_perm("exchange.import_listings", user.institution)


def _import_job(request: HttpRequest, pk: int) -> ImportJob:
    job = get_object_or_404(ImportJob.objects.select_related("institution", "created_by"), pk=pk)
    if not request.user.has_perm("exchange.import_listings", job.institution):
        raise Http404
    return job


@login_required
def import_start(request: HttpRequest) -> HttpResponse:
    """Upload a file (and see the recent imports); next comes the column mapping."""
    if not _may_import(request.user):
        raise PermissionDenied(_("Your account cannot import listings."))
    form = ImportUploadForm(
        request.POST or None, request.FILES or None, user=request.user, initial={"kind": "offer"}
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = imports.import_start(
                by=request.user,
                upload=form.cleaned_data["file"],
                kind=form.cleaned_data["kind"],
                institution=form.cleaned_data.get("institution"),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("exchange:import_mapping", pk=job.pk)
    return render(
        request,
        "exchange/import_start.html",
        {
            "form": form,
            "jobs": selectors.recent_imports(request.user),
            "max_rows": settings.IMPORT_MAX_ROWS,
            "max_megabytes": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    form = ImportMappingForm(
        request.POST or None, headers=job.headers, targets=imports.TARGETS, initial=job.mapping
    )
    if request.method == "POST" and form.is_valid():
        try:
            imports.import_map(job=job, by=request.user, mapping=form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            return redirect("exchange:import_preview", pk=job.pk)
    return render(
        request,
        "exchange/import_mapping.html",
        {"job": job, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def import_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Every row checked, nothing written; confirm when all rows are valid."""
    job = _import_job(request, pk)
    if job.status != ImportJob.Status.MAPPED:
        return redirect(job)
    preview = imports.import_preview(job=job, by=request.user)
    return render(request, "exchange/import_preview.html", {"job": job, "preview": preview})


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    job = _import_job(request, pk)
    try:
        job = imports.import_confirm(job=job, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("exchange:import_preview", pk=job.pk)
    return redirect(job)


@login_required
def import_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Where an import stands; htmx refreshes the progress every 2 s while it runs."""
    job = _import_job(request, pk)
    done = imports.import_progress(job)
    labels = {target.code: target.label for target in imports.TARGETS}
    errors = [
        {**error, "label": labels.get(error["field"], "")}
        for error in job.errors[: settings.IMPORT_PREVIEW_ROWS]
    ]
    context = {"job": job, "done": done, "errors": errors}
    template = "exchange/import_status.html#progress" if request.htmx else None
    return render(request, template or "exchange/import_status.html", context)


@login_required
def import_template(request: HttpRequest, fmt: str) -> HttpResponse:
    """The file to fill in, with its allowed values, in the page's language."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    return exports.export_response(imports.template_export(fmt, language=request.LANGUAGE_CODE))


@login_required
def import_allowed_values(request: HttpRequest) -> HttpResponse:
    return exports.export_response(imports.allowed_values_export(language=request.LANGUAGE_CODE))
