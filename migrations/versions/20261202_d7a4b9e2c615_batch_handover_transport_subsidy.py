"""After departure (issue 13, part 4): a batch may be `arrived`, with its handover (day, who received the
passengers, each passenger's arrival in `handover_passenger`) and its destination band; the transport
subsidy ledger's per-county table (`subsidy_rate`) and its claims (`subsidy_claim`, one per laborer a year).

The batch status is a VARCHAR restricted by a named CHECK (enum_column: native_enum=False), not a
PostgreSQL ENUM type, so no ALTER TYPE ... ADD VALUE is needed: the CHECK is dropped and made again with
the new value (batch mode recreates the table on SQLite).

Revision ID: d7a4b9e2c615
Revises: d7a3f9b2c5e1
Create Date: 2026-12-02 08:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "d7a4b9e2c615"
down_revision = "d7a3f9b2c5e1"
branch_labels = None
depends_on = None

OLD_STATUSES = ("planning", "boarding", "departed", "cancelled")
NEW_STATUSES = ("planning", "boarding", "departed", "arrived", "cancelled")
BANDS = ("outside_far", "outside_near", "inside_province")


def _status_check(statuses) -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def _band(name: str) -> sa.Enum:
    return sa.Enum(*BANDS, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade():
    with op.batch_alter_table("transport_batch", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_transport_batch_batch_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_transport_batch_batch_status"), _status_check(NEW_STATUSES))
    with op.batch_alter_table("transport_batch", schema=None) as batch_op:
        # The band's VARCHAR and its CHECK apart: batch mode drops columns that bring a CHECK of their own.
        batch_op.add_column(sa.Column("destination_band", sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column("arrived_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("received_by_name", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("received_by_phone", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("handover_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handover_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_transport_batch_handover_by_id_user"), "user", ["handover_by_id"], ["id"]
        )
    with op.batch_alter_table("transport_batch", schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_transport_batch_destination_band"), "destination_band IN ('" + "', '".join(BANDS) + "')"
        )
    op.create_table(
        "handover_passenger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("has_arrived", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["transport_batch.id"],
            name=op.f("fk_handover_passenger_batch_id_transport_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["placement_id"],
            ["placement.id"],
            name=op.f("fk_handover_passenger_placement_id_placement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover_passenger")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_handover_passenger_placement_id")),
    )
    op.create_index(op.f("ix_handover_passenger_batch_id"), "handover_passenger", ["batch_id"], unique=False)
    op.create_table(
        "subsidy_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("band", _band("band"), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_subsidy_rate_amount_nonnegative")),
        sa.ForeignKeyConstraint(["county_code"], ["region.code"], name=op.f("fk_subsidy_rate_county_code_region")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"], name=op.f("fk_subsidy_rate_updated_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_rate")),
        sa.UniqueConstraint("county_code", "band", name=op.f("uq_subsidy_rate_county_code_band")),
    )
    op.create_table(
        "subsidy_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("laborer_id", sa.Integer(), nullable=False),
        sa.Column("placement_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("county_code", sa.String(length=12), nullable=False),
        sa.Column("village_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("band", _band("band"), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("due", "approved", name="claim_status", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_subsidy_claim_amount_nonnegative")),
        sa.ForeignKeyConstraint(["laborer_id"], ["laborer.id"], name=op.f("fk_subsidy_claim_laborer_id_laborer")),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["placement.id"], name=op.f("fk_subsidy_claim_placement_id_placement")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["transport_batch.id"], name=op.f("fk_subsidy_claim_batch_id_transport_batch")
        ),
        sa.ForeignKeyConstraint(["county_code"], ["region.code"], name=op.f("fk_subsidy_claim_county_code_region")),
        sa.ForeignKeyConstraint(["approved_by_id"], ["user.id"], name=op.f("fk_subsidy_claim_approved_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_claim")),
        sa.UniqueConstraint("laborer_id", "year", name=op.f("uq_subsidy_claim_laborer_id_year")),
        sa.UniqueConstraint("placement_id", name=op.f("uq_subsidy_claim_placement_id")),
    )
    op.create_index(op.f("ix_subsidy_claim_batch_id"), "subsidy_claim", ["batch_id"], unique=False)
    op.create_index(op.f("ix_subsidy_claim_county_code"), "subsidy_claim", ["county_code"], unique=False)
    op.create_index(op.f("ix_subsidy_claim_status"), "subsidy_claim", ["status"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_subsidy_claim_status"), table_name="subsidy_claim")
    op.drop_index(op.f("ix_subsidy_claim_county_code"), table_name="subsidy_claim")
    op.drop_index(op.f("ix_subsidy_claim_batch_id"), table_name="subsidy_claim")
    op.drop_table("subsidy_claim")
    op.drop_table("subsidy_rate")
    op.drop_index(op.f("ix_handover_passenger_batch_id"), table_name="handover_passenger")
    op.drop_table("handover_passenger")
    # Arrived batches go back to departed, the last status the older schema knows.
    op.execute("UPDATE transport_batch SET status = 'departed' WHERE status = 'arrived'")
    with op.batch_alter_table("transport_batch", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_transport_batch_destination_band"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_transport_batch_handover_by_id_user"), type_="foreignkey")
        batch_op.drop_column("handover_at")
        batch_op.drop_column("handover_by_id")
        batch_op.drop_column("received_by_phone")
        batch_op.drop_column("received_by_name")
        batch_op.drop_column("arrived_on")
        batch_op.drop_column("destination_band")
    with op.batch_alter_table("transport_batch", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_transport_batch_batch_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_transport_batch_batch_status"), _status_check(OLD_STATUSES))
