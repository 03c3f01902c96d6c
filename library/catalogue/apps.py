from django.apps import AppConfig
from django.db.models.signals import post_migrate

EDITORS_GROUP = "Editors"


class CatalogueConfig(AppConfig):
    name = "library.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        post_migrate.connect(ensure_editors_group, sender=self)


def ensure_editors_group(sender, using: str = "default", **kwargs) -> None:
    """Keep an "Editors" group with every catalogue permission; editors are added to it.

    Done after migrate rather than in a data migration because permissions only exist
    once ``post_migrate`` has created them.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.using(using).get_or_create(name=EDITORS_GROUP)
    permissions = Permission.objects.using(using).filter(content_type__app_label="catalogue")
    group.permissions.add(*permissions)
