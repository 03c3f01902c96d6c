"""The editor's upload form: one citation file, what to do with duplicates, and overrides."""

from __future__ import annotations

import codecs

from django import forms
from django.conf import settings

from library.citations.readers import FORMATS
from library.imports.service import ON_DUPLICATE

DUPLICATE_LABELS = {
    "skip": "Skip them (keep the catalogue as it is)",
    "update": "Update the catalogue piece with the imported fields",
    "keep-both": "Import them as new pieces anyway",
}
FORMAT_LABELS = {"bibtex": "BibTeX / BibLaTeX", "ris": "RIS", "csljson": "CSL-JSON"}


class ImportForm(forms.Form):
    file = forms.FileField(label="Citation file (.bib, .ris or CSL-JSON .json)")
    on_duplicate = forms.ChoiceField(
        label="Entries already in the catalogue",
        choices=[(c, DUPLICATE_LABELS[c]) for c in ON_DUPLICATE],
        initial="skip",
        widget=forms.RadioSelect,
    )
    format = forms.ChoiceField(
        label="Format",
        choices=[("", "From the file name"), *((f, FORMAT_LABELS[f]) for f in FORMATS)],
        required=False,
    )
    encoding = forms.CharField(
        label="Encoding",
        required=False,
        max_length=40,
        help_text="Leave empty for UTF-8 (Latin-1 files are recognised with a warning).",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.DOSSIER_MAX_IMPORT_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size:,} bytes; the import limit is {limit:,} bytes."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload

    def clean_encoding(self):
        encoding = self.cleaned_data["encoding"].strip()
        if encoding:
            try:
                codecs.lookup(encoding)
            except LookupError:
                raise forms.ValidationError(f"Unknown encoding {encoding!r}.") from None
        return encoding
