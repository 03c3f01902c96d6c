"""``manage.py load_vocabulary``: create or update the starter topics and regions."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from library.catalogue.statistics import refresh_planner_statistics
from library.catalogue.vocabulary import VocabularyError, load_vocabulary


class Command(BaseCommand):
    help = (
        "Create or update the starter vocabulary (topics, regions, countries and places) from "
        "library/catalogue/data/. Safe to run again: unchanged terms are left alone."
    )

    def handle(self, *args, **options) -> None:
        try:
            report = load_vocabulary()
        except VocabularyError as exc:
            raise CommandError(str(exc)) from exc
        refresh_planner_statistics()
        for line in report.lines():
            self.stdout.write(line)
