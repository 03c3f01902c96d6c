"""``manage.py ensure_editor``: make sure an editor account exists, and say how to sign in."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from library.catalogue.apps import EDITORS_GROUP

PASSWORD_FILE = Path(settings.BASE_DIR) / ".editor-password"


class Command(BaseCommand):
    help = (
        "Create the editor account (DOSSIER_EDITOR_USERNAME, default 'editor') if missing. "
        "The password is DOSSIER_EDITOR_PASSWORD, or a random one saved to .editor-password."
    )

    def handle(self, *args, **options) -> None:
        username = os.environ.get("DOSSIER_EDITOR_USERNAME", "editor").strip() or "editor"
        password = os.environ.get("DOSSIER_EDITOR_PASSWORD", "")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            if not password:
                password = secrets.token_urlsafe(12)
                PASSWORD_FILE.write_text(password + "\n")
                PASSWORD_FILE.chmod(0o600)
            user = User.objects.create_user(username=username, password=password)
            self.stdout.write(self.style.SUCCESS(f"Created the editor account {username!r}."))
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=EDITORS_GROUP))
        self._say_how_to_sign_in(username, password)

    def _say_how_to_sign_in(self, username: str, password: str) -> None:
        if password:
            shown = password
        elif PASSWORD_FILE.exists():
            shown = PASSWORD_FILE.read_text().strip()
        else:
            shown = f"(unchanged; reset with: python manage.py changepassword {username})"
        self.stdout.write(f"Editor sign-in: username {username!r}, password {shown}")
