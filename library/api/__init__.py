"""The JSON API at /api/, described by an OpenAPI 3.1 document at /api/openapi.json.

Built on django-ninja rather than Django REST framework with drf-spectacular (see README.md
in this folder for the comparison): ninja emits OpenAPI 3.1 natively from the type hints the
views already carry, so the document cannot drift from the code; its function views match
the project's thin-view habit; and it adds one framework (plus pydantic) where DRF brings
serializers, viewsets, routers and a second settings namespace.
"""
