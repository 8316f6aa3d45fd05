"""The shop's REST API (DRF): thin views over the shop and payments services.

Views validate with an input serializer, call one service or selector, and render
with an output serializer. Every error has one shape (see `errors`), and the
OpenAPI schema at /api/schema/ is generated from these modules by drf-spectacular.
"""
