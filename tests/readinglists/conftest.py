"""Reading-list fixtures: an owner, a collaborator, a stranger, and a list with pieces."""

from __future__ import annotations

import pytest

from library.readinglists import services
from library.readinglists.models import ReadingList

PASSWORD = "correct horse 42"


@pytest.fixture
def owner(db, django_user_model):
    return django_user_model.objects.create_user(username="teacher", password=PASSWORD)


@pytest.fixture
def collaborator(db, django_user_model):
    return django_user_model.objects.create_user(username="assistant", password=PASSWORD)


@pytest.fixture
def stranger(db, django_user_model):
    return django_user_model.objects.create_user(username="stranger", password=PASSWORD)


@pytest.fixture
def reading_list(owner, collaborator) -> ReadingList:
    rl = services.create_list(owner, "Week 3: Islamic State after Mosul", "For the seminar.")
    rl.collaborators.add(collaborator)
    return rl


@pytest.fixture
def pieces(make_piece):
    return [
        make_piece("Mosul Operation: The Endgame for IS?", authors=("Abdul Basit",)),
        make_piece("After the Caliphate", authors=("Rohan Gunaratna",)),
        make_piece("Foreign Fighters Return", authors=("Kumar Ramakrishna",)),
    ]


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user
