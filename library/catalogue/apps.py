from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save

EDITORS_GROUP = "Editors"


class CatalogueConfig(AppConfig):
    name = "library.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        post_migrate.connect(ensure_editors_group, sender=self)
        post_delete.connect(
            remove_attachment_file, sender=self.get_model("Piece"), dispatch_uid="piece-file"
        )
        from library.catalogue import citation_jobs, citation_store

        Piece = self.get_model("Piece")
        # (Page caches need no signal: database triggers record every catalogue write,
        # library/catalogue/generation.py.)
        for signal in (post_save, post_delete):
            signal.connect(
                citation_store.forget_piece, sender=Piece, dispatch_uid="catalogue-citations"
            )
        # Connected after forget_piece: the worker stores the saved version's texts.
        post_save.connect(
            citation_jobs.piece_saved, sender=Piece, dispatch_uid="catalogue-cite-texts"
        )


def remove_attachment_file(sender, instance, **kwargs) -> None:
    """A deleted piece takes its PDF with it, once the delete has committed.

    After commit, so a rolled-back delete never leaves a piece pointing at a missing file.
    """
    if instance.attachment:
        storage, name = instance.attachment.storage, instance.attachment.name
        transaction.on_commit(lambda: storage.delete(name))


def ensure_editors_group(sender, using: str = "default", **kwargs) -> None:
    """Keep an "Editors" group with every catalogue permission; editors are added to it.

    Done after migrate rather than in a data migration because permissions only exist
    once ``post_migrate`` has created them.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    permissions = Permission.objects.using(using).filter(content_type__app_label="catalogue")
    group.permissions.add(*permissions)
