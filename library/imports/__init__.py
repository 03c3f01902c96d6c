"""Citation import: BibTeX, RIS and CSL-JSON files into the catalogue.

An app without models: ``service`` plans and applies imports, ``views`` is the editor's
upload-preview-confirm page, and its ``manage.py import_citations`` command calls the same
service. What counts as already catalogued is decided by ``catalogue.duplicates``.
"""
