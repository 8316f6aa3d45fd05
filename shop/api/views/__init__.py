"""API views, one module per audience; `shop.api.urls` maps them."""
