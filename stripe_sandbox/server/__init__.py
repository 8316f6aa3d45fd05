"""HTTP layer: the /v1 API pipeline and the /_sandbox control endpoints."""
