"""``python manage.py search QUERY [--json] [--limit N]``: ranked results on the command line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from library.search import service
from library.search.results import Sort
from library.search.text import plain


class Command(BaseCommand):
    help = "Search the catalogue with the same query language and ranking as the search page."

    def add_arguments(self, parser) -> None:
        parser.add_argument("query", nargs="+", help='e.g. mosul coin, author:basit, "phrase"')
        parser.add_argument("--json", action="store_true", help="print a JSON list")
        parser.add_argument("--limit", type=int, default=10, help="how many results (1-500)")
        parser.add_argument("--sort", choices=[s.value for s in Sort], default="relevance")

    def handle(self, *args, **options) -> None:
        limit = options["limit"]
        if not 1 <= limit <= 500:
            raise CommandError(f"--limit must be between 1 and 500, not {limit}.")
        text = " ".join(options["query"])
        result = service.search(text, sort=options["sort"], page_size=limit)
        if result.index_error:
            raise CommandError(result.index_error)
        rows = [
            {
                "citation_key": piece.citation_key,
                "title": piece.full_title,
                "score": round(hit.score, 4),
                "snippet": plain(hit.snippet),
                "year": piece.year,
                "url": piece.get_absolute_url(),
            }
            for piece, hit in result.entries
        ]
        for hint in result.hints:
            self.stderr.write(f"note: {hint}")
        if result.suggestion:
            self.stderr.write(f"did you mean: {result.suggestion}")
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"{result.total} piece(s) for {result.query.text or text!r}")
        for rank, row in enumerate(rows, 1):
            self.stdout.write(
                f"{rank:>3}. [{row['score']:.3f}] {row['citation_key']}  {row['title']}"
            )
            if row["snippet"]:
                self.stdout.write(f"     {row['snippet']}")
