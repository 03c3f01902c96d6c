"""Test settings: the real settings, with a fast password hasher and a temporary media root."""

import tempfile
from pathlib import Path

from library.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = tempfile.mkdtemp(prefix="dossier-test-media-")
# Never the project's own index, whichever engine a test run selects (make test-postgresql
# uses Whoosh until the database engine has a PostgreSQL dialect).
WHOOSH_INDEX_DIR = Path(tempfile.mkdtemp(prefix="dossier-test-whoosh-"))
# PostgreSQL's saves never ask for the pending-list upkeep unless a test says so: the change
# log's numbers run on from test to test (a sequence is not rolled back), so whether a
# save is the 100th would depend on the tests that ran before it.
SEARCH_UPKEEP_EVERY = 0
