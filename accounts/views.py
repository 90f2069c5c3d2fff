"""Pages of accounts: dashboard, institution, invitations, inbox, preferences, staff pages.

Thin: they read through selectors, write through services and name the permissions of
``accounts/rules.py``. An object a person may not see answers 404.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from rules.contrib.views import permission_required

from accounts import rules as account_rules
from accounts import selectors, services
from accounts.forms import (
    ApiTokenForm,
    EmailInviteForm,
    InstitutionProfileForm,
    InvitationAcceptForm,
    PreferencesForm,
    add_service_errors,
)
from accounts.models import ApiToken, Institution, Invitation, User

NOTIFICATIONS_PER_PAGE = 20


def home(request: HttpRequest) -> HttpResponse:
    """What a first visitor sees: what CooperaNet is and who takes part."""
    return render(request, "home.html", {"overview": selectors.designation_overview()})


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered on the account of a signed-in person."""
    response = django_set_language(request)
    if request.method == "POST" and request.user.is_authenticated:
        services.user_set_language(user=request.user, language=request.POST.get("language", ""))
    return response


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "accounts/dashboard.html",
        {
            "awaiting_vetting": account_rules.is_partner_awaiting_vetting(user),
            "vetting_rejected": account_rules.is_rejected_partner(user),
            "can_see_institution": user.institution is not None
            and user.has_perm("accounts.view_institution_members", user.institution),
            "latest_notifications": selectors.notifications_for(user)[:5],
        },
    )


def _own_institution(request: HttpRequest) -> Institution:
    institution = request.user.institution
    if institution is None or not request.user.has_perm(
        "accounts.view_institution_members", institution
    ):
        if account_rules.is_partner_awaiting_vetting(request.user):
            raise PermissionDenied(_("Your organisation is awaiting vetting by the Secretariat."))
        raise Http404
    return institution


@login_required
def institution(request: HttpRequest) -> HttpResponse:
    """The signed-in person's institution: its people, invitations and public profile."""
    institution = _own_institution(request)
    can_edit = request.user.has_perm("accounts.edit_institution_profile", institution)
    can_invite = request.user.has_perm("accounts.invite_delegate", institution)
    profile_form = InstitutionProfileForm(
        initial={"website": institution.website, "description": institution.description}
    )
    invite_form = EmailInviteForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "profile":
            profile_form = InstitutionProfileForm(request.POST)
            if profile_form.is_valid():
                try:
                    services.institution_update_profile(
                        institution=institution, by=request.user, **profile_form.cleaned_data
                    )
                except ValidationError as error:
                    add_service_errors(profile_form, error)
                else:
                    messages.success(request, _("The profile was saved."))
                    return redirect("accounts:institution")
        elif action == "invite":
            invite_form = EmailInviteForm(request.POST)
            if invite_form.is_valid():
                try:
                    invitation = services.delegate_invite(
                        institution=institution,
                        email=invite_form.cleaned_data["email"],
                        by=request.user,
                    )
                except ValidationError as error:
                    add_service_errors(invite_form, error)
                else:
                    messages.success(
                        request,
                        _("An invitation was sent to %(email)s.") % {"email": invitation.email},
                    )
                    return redirect("accounts:institution")
        else:
            raise Http404
    return render(
        request,
        "accounts/institution.html",
        {
            "institution": institution,
            "people": selectors.institution_people(institution),
            "invitations": selectors.institution_pending_invitations(institution)
            if can_invite
            else [],
            "can_edit": can_edit,
            "can_invite": can_invite,
            "profile_form": profile_form,
            "invite_form": invite_form,
        },
        status=400 if request.method == "POST" else 200,
    )


def _get_delegate(request: HttpRequest, pk: int) -> User:
    delegate = get_object_or_404(User.objects.select_related("institution"), pk=pk)
    if not request.user.has_perm("accounts.revoke_delegate", delegate):
        raise Http404
    return delegate


@login_required
def revoke_delegate(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then end a delegate's access."""
    delegate = _get_delegate(request, pk)
    if request.method == "POST":
        try:
            services.delegate_revoke(delegate=delegate, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("%(name)s can no longer act for your institution.")
                % {"name": delegate.get_full_name()},
            )
        return redirect("accounts:institution")
    return render(request, "accounts/revoke_delegate.html", {"delegate": delegate})


@login_required
@require_POST
def revoke_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.select_related("institution"), pk=pk)
    if not request.user.has_perm("accounts.revoke_delegate", invitation):
        raise Http404
    try:
        services.invitation_revoke(invitation=invitation, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The invitation was withdrawn."))
    return redirect("accounts:institution")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone holding the link sets the password of the invited account."""
    invitation = get_object_or_404(
        Invitation.objects.select_related("institution", "institution__country"), token=token
    )
    try:
        services.invitation_check_usable(invitation)
    except ValidationError as error:
        return render(
            request,
            "accounts/invitation_unusable.html",
            {"reason": " ".join(error.messages)},
            status=410,
        )
    form = InvitationAcceptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invitation_accept(
                invitation=invitation,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error)
            else:
                form.add_error("password1", error.messages)
        else:
            messages.success(request, _("Your account is ready. Sign in with your new password."))
            return redirect("account_login")
    return render(
        request,
        "accounts/accept_invitation.html",
        {"invitation": invitation, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notifications_for(request.user), NOTIFICATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/inbox.html", {"page": page})


@login_required
@require_POST
def open_notification(request: HttpRequest, pk: int) -> HttpResponse:
    notification = get_object_or_404(request.user.notifications, pk=pk)
    services.notification_mark_read(notification=notification, by=request.user)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("accounts:inbox")


@login_required
@require_POST
def read_all_notifications(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(by=request.user)
    messages.success(request, _("All notifications are marked as read."))
    return redirect("accounts:inbox")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm.for_user(request.user, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_update_preferences(
            user=request.user,
            language=form.cleaned_data["language"],
            email_opt_outs=form.opt_outs(),
        )
        messages.success(request, _("Your preferences were saved."))
        response = redirect("accounts:preferences")
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return response
    return render(request, "accounts/preferences.html", {"form": form})


@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The person's API tokens; a new token's secret is shown on this answer only."""
    form = ApiTokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            created = {"token": token, "secret": secret}
            form = ApiTokenForm()
    tokens = selectors.api_tokens_of(request.user)
    return render(
        request,
        "accounts/api_tokens.html",
        {"form": form, "tokens": tokens, "created": created},
    )


@login_required
def revoke_api_token(request: HttpRequest, key: str) -> HttpResponse:
    token = get_object_or_404(ApiToken, user=request.user, token_key=key)
    if request.method == "POST":
        services.api_token_revoke(token=token, by=request.user)
        messages.success(request, _("The token was revoked. Scripts using it stop working now."))
        return redirect("accounts:api_tokens")
    return render(request, "accounts/revoke_api_token.html", {"token": token})


@login_required
@permission_required("accounts.view_designation_dashboard", raise_exception=True)
def designation_dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "accounts/designations.html",
        {
            "overview": selectors.designation_overview(),
            "partners_waiting": selectors.partners_awaiting_vetting(),
        },
    )
