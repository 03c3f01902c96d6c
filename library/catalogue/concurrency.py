"""Optimistic concurrency for pieces: a stale edit is refused, shown, and can be re-applied.

Two editors open the same piece; A saves a synopsis change, then B saves a note change.
Without a check B's form, built before A's save, would silently put the old synopsis back.
So every save of an existing piece bumps ``Piece.version`` while holding the piece-save
lock (:mod:`library.catalogue.locking`, plus the row lock), and an edit form carries the
version it was built from and a fingerprint of every field's value at that moment. A save
built on an older version raises :class:`StalePiece` instead of writing.

The form is then rebuilt on the current piece by a three-way merge (what the form showed,
what is saved now, what the editor typed): a field only the other editor changed takes its
new value, the editor's own changes are kept, and a field both changed keeps the editor's
text with the other value shown beside it. Pressing Save again applies the editor's changes
on top of the current version. The web form and the admin use the same functions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.core import signing
from django.db import models
from django.utils.datastructures import MultiValueDict

if TYPE_CHECKING:
    from library.catalogue.models import Piece

VERSION_FIELD = "edit_version"
BASE_FIELD = "edit_base"
_SALT = "dossier.catalogue.piece-edit-base"
_SHOWN_CHARS = 300

_ModelForm = TypeVar("_ModelForm", bound=forms.ModelForm)


class StalePiece(Exception):
    """The piece was saved by someone else after the form that sent this save was built."""

    def __init__(self, pk: int, expected: int, current: int) -> None:
        super().__init__(
            f"piece {pk} is at version {current}; the change was built on version {expected}"
        )
        self.pk, self.expected, self.current = pk, expected, current


def claim_version(piece: Piece, expected: int | None) -> None:
    """Check the version a form was built on and give the piece the next one.

    Must run inside the saving transaction, after ``lock_piece_saves()``: the row lock
    (``SELECT … FOR UPDATE``; SQLite's IMMEDIATE transaction already holds the write lock)
    keeps a save that does not take the piece-save lock, such as the admin's, from
    interleaving. ``expected=None`` saves without a check (commands, imports).
    """
    if piece.pk is None:
        piece.version = 1
        return
    from library.catalogue.save_reads import piece_version

    current = piece_version(piece.pk)  # written out: the ORM's query cost 20x its answer
    if current is None:  # deleted meanwhile: the save recreates it, as Django would
        return
    if expected is not None and current != expected:
        raise StalePiece(piece.pk, expected, current)
    piece.version = current + 1


# --- what a form showed, and what changed since ------------------------------------------------


def _text(value: Any) -> str:
    """One comparable string for a field value, bound (posted text) or unbound (initial)."""
    if value is None:
        return ""
    if isinstance(value, models.Model):
        return str(value.pk)
    if isinstance(value, list | tuple | set | models.QuerySet):
        return "\n".join(sorted(_text(item) for item in value))
    return str(value).replace("\r\n", "\n").strip()


def tracked_fields(form: forms.BaseForm) -> list[str]:
    """The fields a three-way merge looks at: everything but the version fields themselves."""
    return [name for name in form.fields if name not in (VERSION_FIELD, BASE_FIELD)]


def field_values(form: forms.BaseForm) -> dict[str, str]:
    """Each tracked field's value as the form shows it (posted data when bound)."""
    values: dict[str, str] = {}
    for name in tracked_fields(form):
        bound = form[name]
        values[name] = _text(bound.field.prepare_value(bound.value()))
    return values


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def fingerprint(values: dict[str, str]) -> str:
    """A signed, compact record of the values a form showed (hashes, not the text)."""
    return signing.dumps({k: _digest(v) for k, v in values.items()}, salt=_SALT, compress=True)


def read_fingerprint(token: str) -> dict[str, str] | None:
    """The hashes in a fingerprint, or ``None`` if it is missing or was tampered with."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=_SALT)
    except signing.BadSignature:
        return None
    return data if isinstance(data, dict) else None


def add_version_fields(form: forms.BaseForm, piece: Piece) -> None:
    """Give an edit form the hidden version and fingerprint of the piece it shows."""
    base = "" if form.is_bound else fingerprint(field_values(form))
    form.fields[VERSION_FIELD] = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, initial=piece.version
    )
    form.fields[BASE_FIELD] = forms.CharField(
        widget=forms.HiddenInput, required=False, initial=base
    )


@dataclass(frozen=True)
class FieldChange:
    """A field the other editor changed; ``conflict`` when this editor changed it too."""

    name: str
    theirs: str
    conflict: bool

    @property
    def shown(self) -> str:
        text = self.theirs or "(empty)"
        return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


def merge(
    base: dict[str, str] | None, yours: dict[str, str], theirs: dict[str, str]
) -> tuple[dict[str, str], list[FieldChange]]:
    """Three-way merge of field values; ``base`` holds the hashes the form was built with.

    Without a usable ``base`` every field that differs counts as changed by both, so the
    editor's text is kept and the saved value shown.
    """
    merged: dict[str, str] = {}
    changes: list[FieldChange] = []
    for name, mine in yours.items():
        now = theirs.get(name, mine)
        if now == mine:
            merged[name] = mine
            continue
        original = base.get(name) if base else None
        they_changed = original is None or _digest(now) != original
        i_changed = original is None or _digest(mine) != original
        if they_changed and not i_changed:
            merged[name] = now
            changes.append(FieldChange(name, now, conflict=False))
        elif they_changed:
            merged[name] = mine
            changes.append(FieldChange(name, now, conflict=True))
        else:
            merged[name] = mine
    return merged, changes


def set_value(data: MultiValueDict[str, Any], form: forms.BaseForm, name: str, value: str) -> None:
    """Put a merged value back into posted data (several values for a multiple choice)."""
    key = form.add_prefix(name)
    if getattr(form.fields[name].widget, "allow_multiple_selected", False):
        data.setlist(key, value.split("\n") if value else [])
    else:
        data[key] = value


def stale_message(error: StalePiece) -> str:
    return (
        f"Someone else saved this piece while you were editing it (your form showed "
        f"version {error.expected}; it is now at version {error.current}), so nothing was "
        "saved. Their changes are listed here: a field only they changed now shows their "
        "text, and everything you typed is kept. Check the fields, then press Save again "
        "to apply your changes on top of theirs."
    )


def merged_data(
    form: forms.BaseForm, current_form: forms.BaseForm, error: StalePiece
) -> tuple[MultiValueDict[str, Any], list[FieldChange]]:
    """Posted data of a refused ``form`` merged onto ``current_form`` (unbound, saved piece).

    Returns the new data, carrying the current version and fingerprint so the next save is
    accepted, and the fields the other editor changed.
    """
    posted = form.data
    assert isinstance(posted, MultiValueDict)  # a refused save is bound to request.POST
    theirs = field_values(current_form)
    base = read_fingerprint(posted.get(form.add_prefix(BASE_FIELD), ""))
    merged, changes = merge(base, field_values(form), theirs)
    data = posted.copy()
    for name, value in merged.items():
        set_value(data, form, name, value)
    data[form.add_prefix(VERSION_FIELD)] = str(error.current)
    data[form.add_prefix(BASE_FIELD)] = fingerprint(theirs)
    return data, changes


def rebase(form: _ModelForm, current_form: _ModelForm, error: StalePiece) -> _ModelForm:
    """``form`` (a refused save) rebuilt as a bound form on the piece as saved now,
    with errors that name every field the other editor changed."""
    data, changes = merged_data(form, current_form, error)
    rebuilt = type(form)(data, instance=current_form.instance, prefix=form.prefix)
    rebuilt.full_clean()
    apply_change_errors(rebuilt, changes, error)
    return rebuilt


def apply_change_errors(
    form: forms.BaseForm, changes: list[FieldChange], error: StalePiece
) -> None:
    """The refusal as form errors: one summary, and a note on each changed field."""
    form.add_error(None, stale_message(error))
    for change in changes:
        label = form.fields[change.name].label or change.name
        if change.conflict:
            note = f"You and the other editor both changed {label}. Theirs: “{change.shown}”"
        else:
            note = f"Changed by the other editor to: “{change.shown}” (now filled in here)"
        form.add_error(None, f"{label}: {note}")
        if change.conflict and change.name in form.fields:
            form.add_error(change.name, note)


# --- the same work saved twice at once ------------------------------------------------------


class DuplicateWork(Exception):
    """A piece from the same text or file was saved first (by another request or process)."""

    def __init__(self, existing: Piece, reason: str) -> None:
        super().__init__(f"{reason}: {existing.citation_key}")
        self.existing, self.reason = existing, reason


def same_work_saved(*, source_hash: str = "", attachment_sha256: str = "") -> DuplicateWork | None:
    """The piece already saved from the same file or the same text, as a refusal; or ``None``.

    Call it inside the saving transaction after ``lock_piece_saves()``: the duplicate checks
    made while drafting ran before the lock, so two requests (or two files of one batch)
    carrying the same work both passed them. Under the lock the check and the insert that
    follows are one step. Exact identity only; the fuzzy checks stay where drafts are made.
    """
    from library.catalogue.models import Piece

    if attachment_sha256:
        same_file = Piece.objects.filter(attachment_sha256=attachment_sha256).order_by("pk")
        if (existing := same_file.first()) is not None:
            return DuplicateWork(existing, "the same file was saved meanwhile")
    if source_hash:
        same_text = Piece.objects.filter(source_hash=source_hash).order_by("pk")
        if (existing := same_text.first()) is not None:
            return DuplicateWork(existing, "the same text was saved meanwhile")
    return None
