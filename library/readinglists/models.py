"""Reading lists, their sections and entries.

Positions are dense integers within one section (``section=None`` is the part of the list
before its first section). Every change to a list's structure bumps ``ReadingList.version``
so that a form built from an older page can be refused instead of silently undoing
someone else's edit (see :mod:`library.readinglists.services`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse

from library.catalogue.models import Piece


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private — only you and your collaborators"
    UNLISTED = "unlisted", "Unlisted — anyone with the link"
    PUBLIC = "public", "Public — listed on the lists index"


def new_share_token() -> str:
    """An unguessable token for unlisted links (192 bits of randomness)."""
    return secrets.token_urlsafe(24)


class ReadingList(models.Model):
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reading_lists"
    )
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="shared_reading_lists"
    )
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    share_token = models.CharField(max_length=64, unique=True, null=True, blank=True)
    version = models.PositiveIntegerField(
        default=1, help_text="Bumped on every change; stale edit forms are refused."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "pk"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("readinglists:detail", args=[self.pk])

    def share_url(self) -> str:
        if not self.share_token:
            return ""
        return reverse("readinglists:shared", args=[self.share_token])

    def is_editor(self, user) -> bool:
        """Owner or collaborator: the people who may change the list."""
        if not user.is_authenticated:
            return False
        if self.owner_id == user.pk:
            return True
        return self.collaborators.filter(pk=user.pk).exists()

    def is_visible_to(self, user) -> bool:
        """Visible by its number: public lists, or to the people who edit it."""
        return self.visibility == Visibility.PUBLIC or self.is_editor(user)


class Section(models.Model):
    reading_list = models.ForeignKey(ReadingList, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=200)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["reading_list", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Entry(models.Model):
    """A piece in a list, with why to read it. Keeps a citation snapshot for deleted pieces."""

    reading_list = models.ForeignKey(ReadingList, on_delete=models.CASCADE, related_name="entries")
    section = models.ForeignKey(
        Section, null=True, blank=True, on_delete=models.SET_NULL, related_name="entries"
    )
    piece = models.ForeignKey(
        Piece, null=True, blank=True, on_delete=models.SET_NULL, related_name="list_entries"
    )
    position = models.PositiveIntegerField(default=0)
    annotation = models.TextField(blank=True, help_text="Why read this; what to look for.")
    pages = models.CharField(max_length=100, blank=True, help_text="e.g. pp. 45–67 or ch. 3")
    required = models.BooleanField(default=True)
    # The last known citation, refreshed when the entry is added and just before the piece
    # is deleted, so a removed piece is shown (and exported) as it was, marked removed.
    snapshot_title = models.CharField(max_length=1000, blank=True)
    snapshot_key = models.CharField(max_length=80, blank=True)
    snapshot_record = models.JSONField(default=dict, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["reading_list", "position", "pk"]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return self.snapshot_title or f"Entry {self.pk}"

    @property
    def is_removed(self) -> bool:
        return self.piece_id is None
