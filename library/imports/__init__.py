"""Citation import: BibTeX, RIS and CSL-JSON files into the catalogue.

Not a Django app (it has no models): ``service`` plans and applies imports, ``duplicates``
finds what is already there, ``views`` is the editor's upload-preview-confirm page, and
``manage.py import_citations`` calls the same service.
"""
