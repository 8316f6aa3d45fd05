"""Trigram indexes for the catalogue search, on PostgreSQL only.

`title__icontains` is `UPPER(title::text) LIKE UPPER('%word%')`: no b-tree helps, so
a word that few products contain scanned every product (60 ms at 100,000). GIN
indexes with pg_trgm's operator class on the same expressions answer it from the
index, and their statistics tell the planner how common a word is, so a common one
still walks the newest-first index and stops at the page. SQLite (the demo) keeps
the scan.
"""

from django.db import migrations

INDEXES = {
    "shop_product_title_trgm": "UPPER(title::text)",
    "shop_product_description_trgm": "UPPER(description::text)",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension: the database owner may create it without superuser.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON shop_product USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("shop", "0002_order_checkout_id_order_flag_reason_and_more")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
