"""Forms for lists, sections and entries. Every editing form carries the list version."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from library.readinglists.models import Entry, ReadingList, Section, Visibility

MAX_NOTE = 5000


class VersionedForm(forms.Form):
    """A form built from one state of the list: ``version`` says which."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class ListForm(forms.ModelForm):
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=MAX_NOTE
    )

    class Meta:
        model = ReadingList
        fields = ["title", "description"]
        error_messages = {"title": {"required": "Give the list a title."}}


class ListEditForm(ListForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class SectionForm(VersionedForm):
    title = forms.CharField(
        max_length=200,
        label="Section title",
        error_messages={"required": "Give the section a title."},
    )


class MoveForm(VersionedForm):
    direction = forms.ChoiceField(choices=[("up", "up"), ("down", "down")])


class MoveToSectionForm(VersionedForm):
    """``section`` is a section id of the same list, or empty for the top part."""

    section = forms.CharField(required=False)

    def __init__(self, *args, reading_list: ReadingList, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.reading_list = reading_list

    def clean_section(self) -> Section | None:
        return section_from_value(self.reading_list, self.cleaned_data.get("section", ""))


def section_from_value(reading_list: ReadingList, value: str) -> Section | None:
    """A section of this list from a form value; a clear error for anything else."""
    value = (value or "").strip()
    if not value:
        return None
    section = (
        Section.objects.filter(reading_list=reading_list, pk=value).first()
        if value.isdecimal()
        else None
    )
    if section is None:
        raise forms.ValidationError(f"“{value[:40]}” is not a section of “{reading_list.title}”.")
    return section


class ReorderForm(MoveToSectionForm):
    """A section's complete new order as comma-separated entry ids (sent by drag and drop)."""

    order = forms.CharField(max_length=20_000)

    def clean_order(self) -> list[int]:
        parts = [p.strip() for p in self.cleaned_data["order"].split(",")]
        if not all(p.isdecimal() for p in parts):
            raise forms.ValidationError("The order must be entry numbers separated by commas.")
        return [int(p) for p in parts]


class EntryForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    annotation = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=MAX_NOTE,
        help_text="Why read this; what to look for.",
    )

    class Meta:
        model = Entry
        fields = ["annotation", "pages", "required"]
        labels = {"required": "Required reading (untick for optional)"}


class AddToListForm(forms.Form):
    """From a piece page or a search result: ``target`` is ``<list id>`` or ``<list>:<section>``."""

    piece = forms.CharField(max_length=80)
    target = forms.CharField(
        max_length=40, error_messages={"required": "Choose a list to add the piece to."}
    )

    def clean_target(self) -> tuple[int, int | None]:
        list_part, _, section_part = self.cleaned_data["target"].partition(":")
        if not list_part.isdecimal() or (section_part and not section_part.isdecimal()):
            raise forms.ValidationError("Choose a list to add the piece to.")
        return int(list_part), int(section_part) if section_part else None


class VisibilityForm(forms.Form):
    visibility = forms.ChoiceField(choices=Visibility.choices, widget=forms.RadioSelect)


class CollaboratorForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"There is no user called “{username}”.")
        return user


class ListSearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search lists by title")
