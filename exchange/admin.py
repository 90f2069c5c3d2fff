"""The Secretariat's moderation in the admin. Every decision goes through exchange.services;
content is read-only here (publishers edit, the Secretariat decides)."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin_actions import run_on_each
from exchange import services
from exchange.forms import ModerationCommentForm
from exchange.models import (
    SDG,
    Connection,
    FocusArea,
    ImportJob,
    Listing,
    ListingDocument,
    ListingRevision,
)
from exchange.revisions import revision_diff
from exchange.rules import MODERATED_FROM, moderation_decisions, revision_decisions


@admin.register(FocusArea)
class FocusAreaAdmin(admin.ModelAdmin):
    list_display = ["name_en", "slug", "position"]
    search_fields = ["name_en", "name_es", "name_pt", "name_fr", "slug"]
    ordering = ["position"]


@admin.register(SDG)
class SDGAdmin(admin.ModelAdmin):
    list_display = ["number", "name_en"]
    search_fields = ["name_en", "name_es", "name_pt", "name_fr"]


class WaitingFilter(admin.SimpleListFilter):
    """How long the listings still waiting for a decision have waited (those decided since
    are not waiting, however long ago they were submitted)."""

    title = _("waiting for")
    parameter_name = "waiting"
    field = "submitted_at"
    waiting = {"status__in": MODERATED_FROM["approve"]}

    def lookups(self, request, model_admin):
        return [
            ("week", _("less than a week")),
            ("month", _("one week to a month")),
            ("older", _("more than a month")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        week, month = now - datetime.timedelta(days=7), now - datetime.timedelta(days=30)
        ranges = {
            "week": {f"{self.field}__gte": week},
            "month": {f"{self.field}__lt": week, f"{self.field}__gte": month},
            "older": {f"{self.field}__lt": month},
        }
        if self.value() not in ranges:
            return queryset
        return queryset.filter(**self.waiting, **ranges[self.value()])


class RevisionWaitingFilter(WaitingFilter):
    field = "created"
    waiting = {"status": ListingRevision.Status.PENDING}


class CommentedActionsMixin:
    """Return and reject ask for a comment on an intermediate page first; archiving, which is
    final, asks for a confirmation there."""

    comment_template = "admin/exchange/comment_action.html"
    # The admin action taking each decision of exchange.rules, offered on the change page.
    decision_actions = {
        "approve": "approve",
        "return": "return_with_comment",
        "reject": "reject",
        "archive": "archive",
    }

    def decisions_of(self, obj) -> list[str]:
        raise NotImplementedError

    def _decisions(self, request, obj) -> list[tuple[str, str]]:
        """The (action, label) buttons of ``obj``'s change page: the decisions its state
        allows, among the actions ``request.user`` may run. They post to the list's
        actions, so the same intermediate pages and services decide."""
        if obj is None:
            return []
        actions = self.get_actions(request)
        names = [self.decision_actions[decision] for decision in self.decisions_of(obj)]
        return [(name, actions[name][2]) for name in names if name in actions]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {
            "decisions": self._decisions(request, obj),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            **self.change_context(obj),
        }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def change_context(self, obj) -> dict:
        return {}

    def _with_comment(self, request, queryset, *, action: str, title, service, done):
        form = ModerationCommentForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            self._decide(request, queryset, service, done, comment=form.cleaned_data["comment"])
            return None
        return self._confirmation_page(request, queryset, action=action, title=title, form=form)

    def _confirmed(self, request, queryset, *, action: str, title, service, done):
        if "apply" in request.POST:
            self._decide(request, queryset, service, done)
            return None
        return self._confirmation_page(request, queryset, action=action, title=title, form=None)

    def _confirmation_page(self, request, queryset, *, action: str, title, form):
        return TemplateResponse(
            request,
            self.comment_template,
            {
                **self.admin_site.each_context(request),
                "title": title,
                "objects": queryset,
                "form": form,
                "action": action,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def _decide(self, request, queryset, service, done, **kwargs):
        run_on_each(self, request, queryset, service, self.service_argument, done, **kwargs)


class ListingDocumentInline(admin.TabularInline):
    """A listing's files, its own and those proposed with a pending revision (read only:
    publishers add and remove them; a revision's decision settles the proposed ones)."""

    model = ListingDocument
    fields = readonly_fields = [
        "download",
        "content_type",
        "size",
        "uploaded_by",
        "created",
        "proposed",
    ]
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by", "revision")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("document"))
    def download(self, document: ListingDocument) -> str:
        url = reverse("exchange:document", args=[document.listing_id, document.pk])
        return format_html('<a href="{}" download>{}</a>', url, document.name)

    @admin.display(description=_("proposed with changes"), boolean=True)
    def proposed(self, document: ListingDocument) -> bool:
        return document.is_proposed


@admin.register(Listing)
class ListingAdmin(CommentedActionsMixin, admin.ModelAdmin):
    service_argument = "listing"
    list_display = ["title", "kind", "country", "institution", "status", "submitted_at"]
    list_filter = ["status", "kind", "publisher_type", WaitingFilter, "country"]
    list_select_related = ["country", "institution"]
    search_fields = ["title", "institution__name", "external_ref"]
    date_hierarchy = "submitted_at"
    actions = ["approve", "return_with_comment", "reject", "archive"]
    fields = readonly_fields = [
        "kind", "status", "title", "summary", "description", "language", "institution",
        "country", "publisher_type", "created_by", "focus_areas", "sdgs", "modality",
        "cooperation_type", "stage", "beneficiary_countries", "beneficiary_regions",
        "duration_months", "cost_sharing", "contact_name", "contact_email", "external_ref",
        "review_by", "moderation_comment", "created", "updated", "submitted_at", "published_at",
    ]  # fmt: skip

    change_form_template = "admin/exchange/listing/change_form.html"
    inlines = [ListingDocumentInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def decisions_of(self, obj) -> list[str]:
        return moderation_decisions(obj)

    @admin.action(description=_("Approve and publish"), permissions=["moderate"])
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            services.listing_approve,
            lambda n: ngettext("%d listing published.", "%d listings published.", n) % n,
        )

    @admin.action(description=_("Return with a comment"), permissions=["moderate"])
    def return_with_comment(self, request, queryset):
        return self._with_comment(
            request,
            queryset,
            action="return_with_comment",
            title=_("Return to the publisher with a comment"),
            service=services.listing_return,
            done=lambda n: ngettext("%d listing returned.", "%d listings returned.", n) % n,
        )

    @admin.action(description=_("Reject with a comment"), permissions=["moderate"])
    def reject(self, request, queryset):
        return self._with_comment(
            request,
            queryset,
            action="reject",
            title=_("Reject, saying why"),
            service=services.listing_reject,
            done=lambda n: ngettext("%d listing rejected.", "%d listings rejected.", n) % n,
        )

    @admin.action(description=_("Archive"), permissions=["moderate"])
    def archive(self, request, queryset):
        return self._confirmed(
            request,
            queryset,
            action="archive",
            title=_("Archive for good: the listings leave the catalogue and cannot come back"),
            service=services.listing_archive,
            done=lambda n: ngettext("%d listing archived.", "%d listings archived.", n) % n,
        )

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("exchange.moderate_listing")


@admin.register(ListingRevision)
class ListingRevisionAdmin(CommentedActionsMixin, admin.ModelAdmin):
    service_argument = "revision"
    list_display = ["listing", "status", "submitted_by", "created"]
    list_filter = ["status", "listing__kind", RevisionWaitingFilter, "listing__country"]
    list_select_related = ["listing", "submitted_by"]
    search_fields = ["listing__title"]
    readonly_fields = ["listing", "status", "submitted_by", "comment", "created", "decided_at"]
    exclude = ["data"]
    change_form_template = "admin/exchange/listingrevision/change_form.html"
    actions = ["approve", "return_with_comment", "reject"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def decisions_of(self, obj) -> list[str]:
        return revision_decisions(obj)

    def change_context(self, obj) -> dict:
        return {
            "diff": revision_diff(obj) if obj else [],
            "proposed_documents": obj.documents.all() if obj else [],
        }

    @admin.action(description=_("Approve the changes"), permissions=["moderate"])
    def approve(self, request, queryset):
        self._decide(
            request,
            queryset,
            services.revision_approve,
            lambda n: ngettext("%d revision approved.", "%d revisions approved.", n) % n,
        )

    @admin.action(description=_("Return with a comment"), permissions=["moderate"])
    def return_with_comment(self, request, queryset):
        return self._with_comment(
            request,
            queryset,
            action="return_with_comment",
            title=_("Return the changes with a comment"),
            service=services.revision_return,
            done=lambda n: ngettext("%d revision returned.", "%d revisions returned.", n) % n,
        )

    @admin.action(description=_("Reject with a comment"), permissions=["moderate"])
    def reject(self, request, queryset):
        return self._with_comment(
            request,
            queryset,
            action="reject",
            title=_("Reject the changes, saying why"),
            service=services.revision_reject,
            done=lambda n: ngettext("%d revision rejected.", "%d revisions rejected.", n) % n,
        )

    def has_moderate_permission(self, request) -> bool:
        return request.user.has_perm("exchange.moderate_listing")


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    list_display = ["listing", "institution", "status", "updated"]
    list_filter = ["status"]
    list_select_related = ["listing", "institution"]
    readonly_fields = ["listing", "institution", "created_by", "message", "status", "created"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Imports of national catalogues, to follow and answer for: read only (institutions run
    them from their import page)."""

    list_display = ["filename", "institution", "created_by", "status", "total", "done", "created"]
    list_filter = ["status", "format", "default_kind"]
    list_select_related = ["institution", "created_by"]
    search_fields = ["filename", "institution__name", "created_by__email"]
    date_hierarchy = "created"
    fields = readonly_fields = [
        "filename", "format", "default_kind", "institution", "created_by", "status", "total",
        "done", "created", "finished_at", "headers", "mapping", "outcomes", "errors",
    ]  # fmt: skip

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        if request.resolver_match and request.resolver_match.url_name.endswith("changelist"):
            # An import's errors can run to thousands of rows: the list never reads them.
            jobs = jobs.defer("headers", "mapping", "outcomes", "errors")
        return jobs

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
