"""App config: keeps list entries' citations when a catalogue piece is deleted."""

from django.apps import AppConfig


class ReadingListsConfig(AppConfig):
    name = "library.readinglists"
    label = "readinglists"
    verbose_name = "Reading lists"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from library.catalogue.models import Piece
        from library.readinglists.snapshots import snapshot_before_piece_delete

        # Registered for Piece only: the snapshot must be taken while the authorships exist.
        pre_delete.connect(
            snapshot_before_piece_delete, sender=Piece, dispatch_uid="readinglists-snapshot"
        )
