"""Customer data: brands, customers, events, memory facts, catalog, themes, profiles.

Revision ID: 0001
Revises: None
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "brands",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_brands"),
        sa.UniqueConstraint("slug", name="uq_brands_slug"),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("external_id", sa.String(128), nullable=False),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=True),
        sa.Column("consent_personalization", sa.Boolean, nullable=False),
        sa.Column("consent_email", sa.Boolean, nullable=False),
        sa.Column("consent_chat_memory", sa.Boolean, nullable=False),
        sa.Column("consent_updated_at", sa.DateTime, nullable=True),
        sa.Column("learning_since", sa.DateTime, nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_customers_brand_id_brands", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("brand_id", "external_id", name="uq_customers_brand_id"),
    )
    op.create_index("ix_customers_brand_id", "customers", ["brand_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("ts", sa.DateTime, nullable=False),
        sa.Column("stock_code", sa.String(32), nullable=True),
        sa.Column("quantity", sa.Integer, nullable=True),
        sa.Column("unit_price", sa.Float, nullable=True),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("country", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON, nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_events_brand_id_brands", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_events_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("brand_id", "source", "source_key", name="uq_events_brand_id"),
    )
    op.create_index("ix_events_customer_ts", "events", ["customer_id", "ts"])
    op.create_index("ix_events_brand_type", "events", ["brand_id", "type"])
    op.create_table(
        "memory_facts",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("knowingly_shared", sa.Boolean, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("expires_at", sa.DateTime, nullable=True),
        sa.Column("vector_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_memory_facts"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_memory_facts_brand_id_brands", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_memory_facts_customer_id_customers",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_memory_facts_customer_id", "memory_facts", ["customer_id"])
    op.create_table(
        "catalog_items",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("stock_code", sa.String(32), nullable=False),
        sa.Column("description", sa.String(300), nullable=False),
        sa.Column("raw_description", sa.String(300), nullable=True),
        sa.Column("price", sa.Float, nullable=True),
        sa.Column("theme", sa.String(64), nullable=True),
        sa.Column("n_orders", sa.Integer, nullable=False),
        sa.Column("n_customers", sa.Integer, nullable=False),
        sa.Column("is_product", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_items"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_catalog_items_brand_id_brands", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("brand_id", "stock_code", name="uq_catalog_items_brand_id"),
    )
    op.create_table(
        "themes",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("label", sa.String(120), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("keywords", sa.JSON, nullable=False),
        sa.Column("n_items", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_themes"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_themes_brand_id_brands", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("brand_id", "slug", name="uq_themes_brand_id"),
    )
    op.create_table(
        "item_themes",
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("theme_id", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("item_id", "theme_id", name="pk_item_themes"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["catalog_items.id"],
            name="fk_item_themes_item_id_catalog_items",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["theme_id"], ["themes.id"], name="fk_item_themes_theme_id_themes", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_item_themes_theme_id", "item_themes", ["theme_id"])
    op.create_table(
        "customer_profiles",
        sa.Column("customer_id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("as_of", sa.DateTime, nullable=False),
        sa.Column("recency_days", sa.Integer, nullable=True),
        sa.Column("frequency", sa.Integer, nullable=False),
        sa.Column("monetary", sa.Float, nullable=False),
        sa.Column("n_returns", sa.Integer, nullable=False),
        sa.Column("first_order_at", sa.DateTime, nullable=True),
        sa.Column("last_order_at", sa.DateTime, nullable=True),
        sa.Column("avg_order_value", sa.Float, nullable=True),
        sa.Column("favourite_themes", sa.JSON, nullable=False),
        sa.Column("theme_shares", sa.JSON, nullable=False),
        sa.Column("typical_order_weekday", sa.String(16), nullable=True),
        sa.Column("typical_order_hour", sa.Integer, nullable=True),
        sa.Column("top_month", sa.Integer, nullable=True),
        sa.Column("price_band", sa.String(16), nullable=True),
        sa.Column("computed_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("customer_id", name="pk_customer_profiles"),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name="fk_customer_profiles_customer_id_customers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["brands.id"],
            name="fk_customer_profiles_brand_id_brands",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_customer_profiles_brand_id", "customer_profiles", ["brand_id"])
    op.create_table(
        "ingest_runs",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("brand_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("stats", sa.JSON, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ingest_runs"),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brands.id"], name="fk_ingest_runs_brand_id_brands", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    for name in (
        "ingest_runs",
        "customer_profiles",
        "item_themes",
        "themes",
        "catalog_items",
        "memory_facts",
        "events",
        "customers",
        "brands",
    ):
        op.drop_table(name)
