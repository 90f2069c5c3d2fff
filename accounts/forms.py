"""Forms of the accounts pages; they collect input, the services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.models import Country, Institution, User


def add_service_errors(
    form: forms.Form, error: ValidationError, *, model: type[models.Model] | None = None
) -> None:
    """Show a service's ValidationError on the form: on its field when the form has it, else
    above the form, named after ``model``'s field (a page that submits a whole listing has
    none of its fields, and "This field is required" alone would not say which)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages in error.message_dict.items():
        if field in form.fields:
            form.add_error(field, messages)
            continue
        label = _field_label(model, field)
        if label:
            messages = [
                _("%(field)s: %(error)s") % {"field": label, "error": message}
                for message in messages
            ]
        form.add_error(None, messages)


def _field_label(model: type[models.Model] | None, field: str) -> str:
    if model is None:
        return ""
    try:
        return capfirst(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return ""


class PartnerSignupForm(forms.Form):
    """Extra questions of allauth's sign-up form: self sign-up is for partner organisations."""

    full_name = forms.CharField(label=_("Your full name"), max_length=200)
    organisation_name = forms.CharField(label=_("Organisation"), max_length=255)
    organisation_type = forms.ChoiceField(
        label=_("Kind of organisation"),
        choices=[
            (value, label)
            for value, label in Institution.Type.choices
            if value in Institution.PARTNER_TYPES
        ],
    )
    country = forms.ModelChoiceField(
        label=_("Country"),
        queryset=Country.objects.all(),
        required=False,
        help_text=_("Where the organisation is based, if in a Member State."),
    )
    # A text input: browsers would refuse "example.org" in a type=url field before the
    # server could accept it as https://example.org.
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        widget=forms.TextInput(attrs={"inputmode": "url", "autocomplete": "url"}),
    )
    accept_principles = forms.BooleanField(
        label=_(
            "I act in good faith for this organisation and accept the principles of "
            "CooperaNet. I understand the Secretariat vets organisations before they publish."
        ),
    )

    def signup(self, request, user: User) -> None:
        services.partner_register(
            user=user,
            full_name=self.cleaned_data["full_name"],
            organisation_name=self.cleaned_data["organisation_name"],
            organisation_type=self.cleaned_data["organisation_type"],
            country=self.cleaned_data.get("country"),
            website=self.cleaned_data.get("website", ""),
        )


class InvitationAcceptForm(forms.Form):
    full_name = forms.CharField(label=_("Your full name"), max_length=200, required=False)
    password1 = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        strip=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class EmailInviteForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail address"),
        error_messages={"invalid": _("Enter a valid e-mail address, such as name@example.org.")},
    )


class DesignateForm(forms.Form):
    mailbox = forms.EmailField(
        label=_("Institutional mailbox"),
        help_text=_("The Authority's own address, not a person's; the invitation goes there."),
        error_messages={"invalid": _("Enter a valid e-mail address, such as name@example.org.")},
    )
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=settings.LANGUAGES)


class StaffInviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[
            (role.value, role.label)
            for role in (User.Role.MISSION_LIAISON, User.Role.BOARD_MEMBER, User.Role.SECRETARIAT)
        ],
    )
    institution = forms.ModelChoiceField(
        label=_("Permanent Mission"),
        queryset=Institution.objects.filter(type=Institution.Type.PERMANENT_MISSION),
        required=False,
        help_text=_("Only for a mission liaison."),
    )
    language = forms.ChoiceField(label=_("Language of the invitation"), choices=settings.LANGUAGES)


class InstitutionProfileForm(forms.Form):
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    description = forms.CharField(
        label=_("About the institution"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        max_length=5000,
    )


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language of pages and e-mails"), choices=settings.LANGUAGES
    )
    email_kinds = forms.MultipleChoiceField(
        label=_("E-mail me about"),
        choices=User.NotificationKind.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Everything still appears in your inbox on the site."),
    )

    @classmethod
    def for_user(cls, user: User, data=None) -> PreferencesForm:
        receiving = [k for k in User.NotificationKind.values if k not in user.email_opt_outs]
        return cls(data=data, initial={"language": user.language, "email_kinds": receiving})

    def opt_outs(self) -> list[str]:
        chosen = set(self.cleaned_data["email_kinds"])
        return [kind for kind in User.NotificationKind.values if kind not in chosen]


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        required=False,
        help_text=_('What the token is for, such as "National catalogue sync".'),
    )
    days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        initial=90,
        choices=[(30, _("30 days")), (90, _("90 days")), (365, _("365 days"))],
    )
