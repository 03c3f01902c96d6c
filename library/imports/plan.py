"""What an import will do: one outcome per entry found, and counts that must add up.

Plain dataclasses, filled in by ``service.plan_import`` and shown by the command's summary,
its ``--json`` output and the editor's preview page.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from library.citations.records import CitationRecord, Name
from library.text import display_name

if TYPE_CHECKING:
    from library.catalogue.models import Piece


class ImportStopped(Exception):
    """Base for import failures that stop the whole import (nothing is written)."""


class CountMismatch(ImportStopped):
    pass


class ImportFailed(ImportStopped):
    pass


@dataclass
class Outcome:
    """What happens to one entry found in a file."""

    status: str  # "create", "duplicate" or "rejected"
    line: int | None
    source_key: str
    title: str = ""
    record: CitationRecord | None = None
    original_type: str = ""
    key: str = ""
    key_note: str = ""
    reason: str = ""
    action: str = ""  # for duplicates: "skipped" or "updated"
    matched_pk: int | None = None
    matched_key: str = ""
    warnings: list[str] = field(default_factory=list)
    existing: Piece | None = None  # filled in for the preview page

    @property
    def author_names(self) -> list[str]:
        """Bylines for the preview: ``al-Raḥmān`` stays one word, as the catalogue shows it."""
        if self.record is None:
            return []
        return [_byline(n) for n in self.record.authors]

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else (self.source_key or "entry")


def _byline(name: Name) -> str:
    return display_name(
        family=name.family,
        given=name.given,
        particle=name.particle,
        suffix=name.suffix,
        organisation=name.is_organisation,
        attach_particle=True,
    )


@dataclass
class FilePlan:
    """The plan for one file, with the counts that must add up."""

    filename: str
    format: str = ""
    found: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str = ""

    def of(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def created(self) -> list[Outcome]:
        return self.of("create")

    @property
    def duplicates(self) -> list[Outcome]:
        return self.of("duplicate")

    @property
    def rejected(self) -> list[Outcome]:
        return self.of("rejected")

    def check_counts(self) -> None:
        accounted = len(self.outcomes)
        if self.found != accounted:
            raise CountMismatch(
                f"{self.filename}: {self.found} entries found in the file but "
                f"{accounted} accounted for ({len(self.created)} new, {len(self.duplicates)} "
                f"duplicates, {len(self.rejected)} rejected); nothing was imported"
            )

    def as_json(self) -> dict:
        return {
            "file": self.filename,
            "format": self.format,
            "error": self.error or None,
            "found": self.found,
            "created": len(self.created),
            "duplicates": len(self.duplicates),
            "rejected": [_rejected_json(o) for o in self.rejected],
            "warnings": self.warning_lines(),
            "pieces": [
                {
                    "line": o.line,
                    "key": o.key,
                    "source_key": o.source_key,
                    "title": o.title,
                    "key_note": o.key_note or None,
                }
                for o in self.created
            ],
            "duplicate_entries": [
                {
                    "line": o.line,
                    "key": o.source_key,
                    "title": o.title,
                    "matches": o.matched_key,
                    "reason": o.reason,
                    "action": o.action,
                }
                for o in self.duplicates
            ],
        }

    def warning_lines(self) -> list[str]:
        lines = [f"{self.filename}: {w}" for w in self.warnings]
        for o in self.outcomes:
            label = f"{self.filename} {o.where}" + (f" ({o.source_key})" if o.line else "")
            lines.extend(f"{label}: {w}" for w in o.warnings)
            if o.key_note:
                lines.append(f"{label}: {o.key_note}")
        return lines


def _rejected_json(outcome: Outcome) -> dict:
    return {"key": outcome.source_key or None, "line": outcome.line, "reason": outcome.reason}


@dataclass
class ImportPlan:
    """Every file's plan, and the options it was made with."""

    files: list[FilePlan]
    on_duplicate: str = "skip"

    @property
    def found(self) -> int:
        return sum(f.found for f in self.files)

    def count(self, status: str) -> int:
        return sum(len(f.of(status)) for f in self.files)

    @property
    def failed_files(self) -> list[FilePlan]:
        return [f for f in self.files if f.error]

    def digest(self) -> str:
        """A fingerprint of what would be written: a preview is confirmed only if unchanged."""
        rows = [
            (f.filename, o.status, o.line, o.key, o.action, o.matched_pk)
            for f in self.files
            for o in f.outcomes
        ]
        return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()

    def as_json(self, *, dry_run: bool) -> dict:
        files = [f.as_json() for f in self.files]
        return {
            "dry_run": dry_run,
            "on_duplicate": self.on_duplicate,
            "found": self.found,
            "created": self.count("create"),
            "duplicates": self.count("duplicate"),
            "updated": sum(1 for f in self.files for o in f.duplicates if o.action == "updated"),
            "rejected": [
                {"file": f.filename, **_rejected_json(o)} for f in self.files for o in f.rejected
            ],
            "warnings": [w for f in self.files for w in f.warning_lines()],
            "errors": [f"{f.filename}: {f.error}" for f in self.failed_files],
            "files": files,
        }
