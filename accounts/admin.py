"""The Secretariat's admin for accounts; every state change goes through accounts.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from knox.models import AuthToken

from accounts import services
from accounts.admin_actions import run_on_each
from accounts.forms import DesignateForm, StaffInviteForm, add_service_errors
from accounts.models import ApiToken, Country, Institution, Invitation, Notification, User


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ["name_en", "iso3", "iso2", "participates"]
    list_filter = ["participates"]
    search_fields = ["name_en", "name_es", "name_pt", "name_fr", "iso3", "iso2"]


@admin.register(Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "country",
        "mailbox",
        "designation_status",
        "vetting_status",
        "designate_link",
    ]
    list_filter = ["type", "designation_status", "vetting_status", "country"]
    list_select_related = ["country"]
    search_fields = ["name", "mailbox", "country__name_en", "country__iso3"]
    readonly_fields = [
        "designation_status",
        "designated_at",
        "vetting_status",
        "vetted_at",
        "created",
        "updated",
    ]
    actions = ["vet_partners", "reject_partners"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=_("Institutional account"))
    def designate_link(self, institution: Institution):
        if institution.type != Institution.Type.COOPERATION_AUTHORITY:
            return "—"
        url = reverse("admin:accounts_institution_designate", args=[institution.pk])
        label = (
            _("Re-designate")
            if institution.designation_status != Institution.Designation.NOT_DESIGNATED
            else _("Designate")
        )
        return format_html('<a href="{}">{}</a>', url, label)

    def get_urls(self):
        return [
            path(
                "<int:pk>/designate/",
                self.admin_site.admin_view(self.designate_view),
                name="accounts_institution_designate",
            ),
            *super().get_urls(),
        ]

    def designate_view(self, request, pk: int):
        """Designate (or re-designate) a Member State's institutional account."""
        institution = get_object_or_404(Institution.objects.select_related("country"), pk=pk)
        if not request.user.has_perm("accounts.designate_focal_point", institution):
            raise PermissionDenied
        form = DesignateForm(request.POST or None, initial={"mailbox": institution.mailbox})
        if request.method == "POST" and form.is_valid():
            try:
                invitation = services.focal_point_designate(
                    institution=institution,
                    mailbox=form.cleaned_data["mailbox"],
                    language=form.cleaned_data["language"],
                    by=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self.message_user(
                    request,
                    _("An invitation was sent to %(email)s.") % {"email": invitation.email},
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_institution_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Designate the institutional account of %(name)s")
            % {"name": institution.name},
            "institution": institution,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/designate.html", context)

    @admin.action(description=_("Vet the selected partner organisations"), permissions=["vet"])
    def vet_partners(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset,
            services.partner_vet,
            "institution",
            lambda n: ngettext("%d organisation vetted.", "%d organisations vetted.", n) % n,
        )

    @admin.action(description=_("Reject the selected partner organisations"), permissions=["vet"])
    def reject_partners(self, request, queryset):
        run_on_each(
            self,
            request,
            queryset,
            services.partner_reject,
            "institution",
            lambda n: ngettext("%d organisation rejected.", "%d organisations rejected.", n) % n,
        )

    def has_vet_permission(self, request) -> bool:
        return request.user.has_perm("accounts.vet_partner")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["email", "full_name", "role", "institution", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    list_select_related = ["institution"]
    search_fields = ["email", "full_name", "institution__name"]
    readonly_fields = ["last_login", "date_joined", "revoked_at", "password"]
    fields = [
        "email",
        "full_name",
        "role",
        "institution",
        "language",
        "is_active",
        "is_staff",
        "email_opt_outs",
        "last_login",
        "date_joined",
        "revoked_at",
    ]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "role", "institution", "status", "created", "expires_at", "sent_at"]
    list_filter = ["role", "status"]
    list_select_related = ["institution"]
    search_fields = ["email", "institution__name"]
    readonly_fields = [
        "email",
        "role",
        "institution",
        "invited_by",
        "language",
        "status",
        "created",
        "expires_at",
        "sent_at",
        "accepted_at",
        "user",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def get_urls(self):
        return [
            path(
                "invite-staff/",
                self.admin_site.admin_view(self.invite_staff_view),
                name="accounts_invitation_invite_staff",
            ),
            *super().get_urls(),
        ]

    def invite_staff_view(self, request):
        """Invite a mission liaison, a board member or a Secretariat colleague."""
        if not request.user.has_perm("accounts.invite_staff"):
            raise PermissionDenied
        form = StaffInviteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                invitation = services.staff_invite(by=request.user, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                self.message_user(
                    request,
                    _("An invitation was sent to %(email)s.") % {"email": invitation.email},
                    messages.SUCCESS,
                )
                return redirect("admin:accounts_invitation_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Invite a mission liaison, board member or Secretariat colleague"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/accounts/invite_staff.html", context)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "created", "read_at", "email_status"]
    list_filter = ["kind", "email_status"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# knox registers its own token model, which ours replaces (KNOX_TOKEN_MODEL).
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners; the Secretariat can see and revoke them."""

    list_display = ["name", "user", "token_key", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["user__email", "name", "token_key"]
    fields = ["name", "user", "token_key", "created", "expiry"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def delete_model(self, request, obj) -> None:
        services.api_token_revoke(token=obj, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for token in queryset:
            services.api_token_revoke(token=token, by=request.user)
