from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class SearchConfig(AppConfig):
    name = "library.search"
    label = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from library.catalogue.models import Author, Authorship, Piece, Region, Topic
        from library.search import signals

        uid = "library.search"
        post_save.connect(signals.piece_saved, sender=Piece, dispatch_uid=f"{uid}.piece")
        post_delete.connect(signals.piece_deleted, sender=Piece, dispatch_uid=f"{uid}.piece")
        for through in (Piece.topics.through, Piece.regions.through):
            m2m_changed.connect(
                signals.tags_changed, sender=through, dispatch_uid=f"{uid}.{through}"
            )
        for signal in (post_save, post_delete):
            signal.connect(
                signals.authorship_changed, sender=Authorship, dispatch_uid=f"{uid}.authorship"
            )
        for model in (Topic, Region):
            post_save.connect(signals.term_saved, sender=model, dispatch_uid=f"{uid}.{model}")
        post_save.connect(signals.author_saved, sender=Author, dispatch_uid=f"{uid}.author")
        post_migrate.connect(index_existing_pieces, sender=self)


def index_existing_pieces(sender, using: str = "default", **kwargs) -> None:
    """After migrate, index pieces that predate the search tables (an upgrade)."""
    from django.db import connections

    from library.catalogue.models import Piece
    from library.search.backends.database import NoDialectBackend, database_backend
    from library.search.documents import iter_documents

    connection = connections[using]
    backend = database_backend(connection)
    if isinstance(backend, NoDialectBackend) or not Piece.objects.using(using).exists():
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM {backend.index_table} LIMIT 1")
        if cursor.fetchone():
            return
    count = sum(backend.add_bulk(batch) for batch in iter_documents())
    if kwargs.get("verbosity", 1):
        print(f"Indexed {count} existing pieces for search.")
