"""dataset 1.1.0: infrastructure and application topology, entity-type catalog

Revision ID: 1.1.0
Revises: 1.0.0
Create Date: 2026-11-27 09:08:52.902298
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1.1.0'
down_revision: str | None = '1.0.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('entity_type',
    sa.Column('plugin', sa.String(length=32), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('snapshot_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('snapshot_count > 0', name=op.f('ck_entity_type_used')),
    sa.PrimaryKeyConstraint('plugin', name=op.f('pk_entity_type'))
    )
    op.create_table('service_connection',
    sa.Column('from_service_id', sa.String(length=64), nullable=False),
    sa.Column('to_service_id', sa.String(length=64), nullable=False),
    sa.Column('calls', sa.BigInteger(), nullable=False),
    sa.Column('erroneous_calls', sa.BigInteger(), nullable=False),
    sa.Column('latency_ms', sa.Double(), nullable=False),
    sa.Column('from_ms', sa.BigInteger(), nullable=False),
    sa.Column('to_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('calls >= 0', name=op.f('ck_service_connection_calls_non_negative')),
    sa.CheckConstraint('erroneous_calls >= 0 AND erroneous_calls <= calls', name=op.f('ck_service_connection_errors_within_calls')),
    sa.CheckConstraint('from_service_id <> to_service_id', name=op.f('ck_service_connection_no_self_call')),
    sa.CheckConstraint('latency_ms >= 0', name=op.f('ck_service_connection_latency_non_negative')),
    sa.CheckConstraint('to_ms > from_ms', name=op.f('ck_service_connection_window')),
    sa.ForeignKeyConstraint(['from_service_id'], ['service.id'], name=op.f('fk_service_connection_from_service_id_service')),
    sa.ForeignKeyConstraint(['to_service_id'], ['service.id'], name=op.f('fk_service_connection_to_service_id_service')),
    sa.PrimaryKeyConstraint('from_service_id', 'to_service_id', name=op.f('pk_service_connection'))
    )
    op.create_index(op.f('ix_service_connection_to_service_id'), 'service_connection', ['to_service_id'], unique=False)
    op.create_table('snapshot_relation',
    sa.Column('source_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('destination_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('relation', sa.String(length=16), nullable=False),
    sa.CheckConstraint("relation IN ('in', 'is', 'to', 'of', 'connected', 'describes', 'of20', 'to20', 'dummy', 'parent')", name=op.f('ck_snapshot_relation_relation')),
    sa.CheckConstraint('source_snapshot_id <> destination_snapshot_id', name=op.f('ck_snapshot_relation_no_self_loop')),
    sa.ForeignKeyConstraint(['destination_snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_snapshot_relation_destination_snapshot_id_snapshot')),
    sa.ForeignKeyConstraint(['source_snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_snapshot_relation_source_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('source_snapshot_id', 'destination_snapshot_id', 'relation', name=op.f('pk_snapshot_relation'))
    )
    op.create_index(op.f('ix_snapshot_relation_destination_snapshot_id'), 'snapshot_relation', ['destination_snapshot_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_snapshot_relation_destination_snapshot_id'), table_name='snapshot_relation')
    op.drop_table('snapshot_relation')
    op.drop_index(op.f('ix_service_connection_to_service_id'), table_name='service_connection')
    op.drop_table('service_connection')
    op.drop_table('entity_type')
