"""Test settings: the real settings, with a fast password hasher and a temporary media root."""

import tempfile

from library.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="dossier-test-media-")
