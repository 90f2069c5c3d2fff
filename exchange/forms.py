"""Forms of the exchange pages; they collect input, the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Country, Institution
from accounts.rules import is_secretariat
from exchange.catalogue import FACETS, SORTS, CatalogueQuery
from exchange.models import SDG, Connection, FocusArea, Listing, ListingRevision
from exchange.selectors import public_institutions, reference


class ListingForm(forms.Form):
    """Every field of a listing. A draft needs little; submitting checks the rest."""

    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary"),
        max_length=600,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Two or three sentences shown in the catalogue."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: **bold**, *italics*, lists with -, links as [text](https://…)."),
    )
    language = forms.ChoiceField(
        label=_("Language of the content"), choices=Listing.Language.choices
    )
    focus_areas = forms.ModelMultipleChoiceField(
        label=_("Focus areas"),
        queryset=FocusArea.objects.all(),
        widget=forms.CheckboxSelectMultiple,
    )
    sdgs = forms.ModelMultipleChoiceField(
        label=_("Sustainable Development Goals"),
        queryset=SDG.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    modality = forms.ChoiceField(
        label=_("Modality"), choices=[("", "—"), *Listing.Modality.choices], required=False
    )
    cooperation_type = forms.ChoiceField(
        label=_("Type of cooperation"),
        choices=[("", "—"), *Listing.CooperationType.choices],
        required=False,
    )
    stage = forms.ChoiceField(
        label=_("Stage"), choices=[("", "—"), *Listing.Stage.choices], required=False
    )
    beneficiary_countries = forms.ModelMultipleChoiceField(
        label=_("Beneficiary countries"),
        queryset=Country.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    beneficiary_regions = forms.MultipleChoiceField(
        label=_("Beneficiary regions"),
        choices=Listing.Region.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    duration_months = forms.IntegerField(
        label=_("Duration (months)"), min_value=1, max_value=240, required=False
    )
    cost_sharing = forms.CharField(
        label=_("Cost sharing"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("Which costs your institution covers; it need not cover them all."),
    )
    contact_name = forms.CharField(label=_("Contact person"), max_length=200, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    external_ref = forms.CharField(
        label=_("Reference in your national catalogue"), max_length=100, required=False
    )
    review_by = forms.DateField(
        label=_("Review by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Left empty, the listing keeps its current date, or is reviewed one year after "
            "it is approved."
        ),
    )

    @classmethod
    def for_listing(
        cls, listing: Listing, data=None, revision: ListingRevision | None = None
    ) -> ListingForm:
        """The form for editing ``listing``: filled with the changes of ``revision`` (the
        publisher's pending or returned one) when given, else with the live values."""
        related = ("focus_areas", "sdgs", "beneficiary_countries")
        if revision is not None:
            initial = {name: revision.data.get(name) for name in cls.base_fields}
        else:
            initial = {
                name: getattr(listing, name) for name in cls.base_fields if name not in related
            }
            for name in related:
                initial[name] = list(getattr(listing, name).all())
        return cls(data=data, initial=initial)


class SubmitForm(forms.Form):
    acknowledge_similar = forms.BooleanField(
        label=_("I checked the similar listings; submit this one too."), required=False
    )


class ModerationCommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment for the publisher"),
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=4000,
    )


class DocumentForm(forms.Form):
    file = forms.FileField(
        label=_("Document"),
        help_text=_("PDF, Word, Excel, PNG, JPEG or WebP; at most 10 MB."),
    )


class InterestForm(forms.Form):
    message = forms.CharField(
        label=_("Your message to the publisher"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("What interests your institution, and who to contact."),
    )


class ConnectionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Move to"), choices=Connection.Status.choices)


class CatalogueForm(forms.Form):
    """Validates catalogue parameters; unknown values are dropped, never an error page."""

    q = forms.CharField(required=False, max_length=200)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    page = forms.IntegerField(required=False, min_value=1, max_value=100000)

    def to_query(self, params) -> tuple[CatalogueQuery, list[str]]:
        """The query for the valid values of ``params`` and the names of ignored ones."""
        known = reference().facet_values
        ignored: list[str] = []
        values: dict[str, tuple] = {}
        for name in FACETS:
            chosen = []
            for raw in params.getlist(name)[:50]:
                if raw in known[name]:
                    chosen.append(known[name][raw])
                elif raw:
                    ignored.append(name)
            values[name] = tuple(dict.fromkeys(chosen))
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        for name in ("q", "sort", "page"):
            if name in self.errors:
                ignored.append(name)
        q = (cleaned.get("q") or "").strip()
        sort = cleaned.get("sort") or ("relevance" if q else "newest")
        return (
            CatalogueQuery(**values, q=q, sort=sort, page=cleaned.get("page") or 1),
            sorted(set(ignored)),
        )


class ImportUploadForm(forms.Form):
    """The file to import; the Secretariat also chooses the institution it is for."""

    file = forms.FileField(
        label=_("File (CSV or XLSX)"),
        help_text=_("CSV in UTF-8 (comma, semicolon or tab separated) or an Excel .xlsx file."),
    )
    kind = forms.ChoiceField(
        label=_("Kind of listings"),
        choices=Listing.Kind.choices,
        help_text=_("Used for the rows of a file without a “kind” column."),
    )
    institution = forms.ModelChoiceField(
        label=_("Institution"), queryset=Institution.objects.none(), required=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_secretariat(user):
            self.fields["institution"].queryset = public_institutions().order_by("name")
        else:
            del self.fields["institution"]


class ImportMappingForm(forms.Form):
    """For each field of a listing, the column of the file that holds it."""

    def __init__(self, *args, headers: list[str], targets, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("— not in the file —")), *((header, header) for header in headers)]
        for target in targets:
            self.fields[target.code] = forms.ChoiceField(
                label=target.label,
                choices=choices,
                required=False,
                help_text=target.help,
            )
