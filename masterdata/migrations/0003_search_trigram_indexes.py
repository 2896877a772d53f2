"""Trigram indexes for the lists' search (``?q=``): Django's ``icontains`` is ``UPPER(col) LIKE '%…%'``,
which no b-tree can serve; at 100k parties it was a 250–400 ms sequential scan (bench/README.md).

Written as SQL because Django 5.2 renders ``OpClass`` around a function inside an extra pair of
parentheses, which PostgreSQL rejects for GIN indexes.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("md_party_code_trgm", "masterdata_party", "code"),
    ("md_party_name_trgm", "masterdata_party", "name"),
    ("md_party_name_en_trgm", "masterdata_party", "name_en"),
    ("md_product_sku_trgm", "masterdata_product", "sku"),
    ("md_product_name_zh_trgm", "masterdata_product", "name_zh"),
    ("md_product_name_en_trgm", "masterdata_product", "name_en"),
]


class Migration(migrations.Migration):
    dependencies = [("masterdata", "0002_regions")]

    operations = [
        TrigramExtension(),
        *[
            migrations.RunSQL(
                f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin ((UPPER("{column}"::text)) gin_trgm_ops)',
                f'DROP INDEX IF EXISTS "{name}"',
            )
            for name, table, column in INDEXES
        ],
    ]
