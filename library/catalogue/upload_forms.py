"""Forms for uploading commentary files and reviewing what Dossier read from them.

The review form is the paste flow's :class:`PieceForm` plus one tick box per suggested topic,
region and keyword: ticked suggestions become tags, unticked ones are dropped, and the
ordinary text fields still take anything the editor adds by hand.
"""

from __future__ import annotations

from django import forms

from library.catalogue.forms import PieceForm
from library.catalogue.models import Region, Topic

MAX_FILES = 50


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files (Django's documented recipe)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".pdf,.txt"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data]
        return [single(data, initial)] if data else single(data, initial)


class UploadForm(forms.Form):
    # A declared field (the form's metaclass moves it to base_fields), not BaseForm.files.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Commentary files",
        help_text=f"PDFs or text files; up to {MAX_FILES} at a time.",
    )

    def clean_files(self) -> list:
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(
                f"{len(files)} files chosen; upload at most {MAX_FILES} at a time."
            )
        return files


class ReviewForm(PieceForm):
    """One uploaded file's draft: the piece's fields plus its suggestions to accept or reject."""

    include = forms.BooleanField(label="Save this piece", required=False, initial=True)
    accepted_topics = forms.MultipleChoiceField(
        label="Suggested topics",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Untick a suggestion to reject it.",
    )
    accepted_regions = forms.MultipleChoiceField(
        label="Suggested regions", required=False, widget=forms.CheckboxSelectMultiple
    )
    accepted_keywords = forms.MultipleChoiceField(
        label="Suggested keywords", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, suggestions: dict, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (
            ("accepted_topics", [tuple(c) for c in suggestions["topics"]]),
            ("accepted_regions", [tuple(c) for c in suggestions["regions"]]),
            ("accepted_keywords", [(k, k) for k in suggestions["keywords"]]),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.MultipleChoiceField)  # declared above
            field.choices = choices
        self.fields["topics_text"].label = "Other topics"
        self.fields["regions_text"].label = "Other regions"
        self.fields["keywords_text"].label = "Other keywords"
        self.order_fields(["include", "accepted_topics", "accepted_regions", "accepted_keywords"])

    def clean(self) -> dict:
        data = super().clean()
        topics = list(Topic.objects.filter(slug__in=data.get("accepted_topics", [])))
        regions = list(Region.objects.filter(slug__in=data.get("accepted_regions", [])))
        if "topics_text" in data:
            data["topics_text"] = _merge(topics, data["topics_text"])
        if "regions_text" in data:
            data["regions_text"] = _merge(regions, data["regions_text"])
        if "keywords_text" in data:
            data["keywords_text"] = list(
                dict.fromkeys([*data.get("accepted_keywords", []), *data["keywords_text"]])
            )
        return data


def _merge(accepted: list, typed: list) -> list:
    seen = {term.pk for term in accepted}
    return accepted + [term for term in typed if term.pk not in seen]
