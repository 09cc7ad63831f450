"""dataset 1.5.0: ground truth (every injected anomaly, cascade, release effect and traffic surge, with its root
cause, the entities it touched and the events it raised)

Revision ID: 1.5.0
Revises: 1.4.0
Create Date: 2026-11-27 12:10:00

Only new tables: the rows of older versions stay exactly as they were.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1.5.0'
down_revision: str | None = '1.4.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ground_truth',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('cause', sa.String(length=16), nullable=False),
    sa.Column('scenario', sa.Text(), nullable=True),
    sa.Column('entity_type', sa.String(length=16), nullable=True),
    sa.Column('entity_label', sa.Text(), nullable=True),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('metric_id', sa.String(length=64), nullable=True),
    sa.Column('magnitude', sa.Double(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('release_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("(cause = 'release') = (release_id IS NOT NULL)", name=op.f('ck_ground_truth_release_iff_release_cause')),
    sa.CheckConstraint("CASE entity_type WHEN 'APPLICATION' THEN application_id IS NOT NULL AND num_nonnulls(service_id, endpoint_id, snapshot_id) = 0 WHEN 'SERVICE' THEN service_id IS NOT NULL AND num_nonnulls(endpoint_id, snapshot_id) = 0 WHEN 'ENDPOINT' THEN service_id IS NOT NULL AND endpoint_id IS NOT NULL AND snapshot_id IS NULL WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL AND num_nonnulls(application_id, service_id, endpoint_id) = 0 END", name=op.f('ck_ground_truth_entity_matches_type')),
    sa.CheckConstraint("cause IN ('issue', 'incident', 'cascade', 'release', 'traffic')", name=op.f('ck_ground_truth_cause')),
    sa.CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')", name=op.f('ck_ground_truth_entity_type')),
    sa.CheckConstraint("entity_type IS NOT NULL OR (cause = 'traffic' AND entity_label IS NULL AND num_nonnulls(application_id, service_id, endpoint_id, snapshot_id) = 0)", name=op.f('ck_ground_truth_root_unless_world_surge')),
    sa.CheckConstraint("type IN ('spike', 'level_shift', 'degradation', 'memory_leak', 'saturation', 'flapping', 'outage')", name=op.f('ck_ground_truth_type')),
    sa.CheckConstraint('(entity_type IS NULL) = (entity_label IS NULL)', name=op.f('ck_ground_truth_label_iff_entity')),
    sa.CheckConstraint('end_ms > start_ms', name=op.f('ck_ground_truth_end_after_start')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_ground_truth_application_id_application')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_ground_truth_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], name=op.f('fk_ground_truth_release_id_release')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_ground_truth_service_id_service')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_ground_truth_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ground_truth'))
    )
    op.create_index(op.f('ix_ground_truth_service_id'), 'ground_truth', ['service_id'], unique=False)
    op.create_index(op.f('ix_ground_truth_start_ms'), 'ground_truth', ['start_ms'], unique=False)
    op.create_table('ground_truth_effect',
    sa.Column('ground_truth_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('hop', sa.SmallInteger(), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('entity_label', sa.Text(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('factor', sa.Double(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("CASE entity_type WHEN 'APPLICATION' THEN application_id IS NOT NULL AND num_nonnulls(service_id, endpoint_id, snapshot_id) = 0 WHEN 'SERVICE' THEN service_id IS NOT NULL AND num_nonnulls(endpoint_id, snapshot_id) = 0 WHEN 'ENDPOINT' THEN service_id IS NOT NULL AND endpoint_id IS NOT NULL AND snapshot_id IS NULL WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL AND num_nonnulls(application_id, service_id, endpoint_id) = 0 END", name=op.f('ck_ground_truth_effect_entity_matches_type')),
    sa.CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')", name=op.f('ck_ground_truth_effect_entity_type')),
    sa.CheckConstraint('end_ms > start_ms', name=op.f('ck_ground_truth_effect_end_after_start')),
    sa.CheckConstraint('factor > 0', name=op.f('ck_ground_truth_effect_factor_positive')),
    sa.CheckConstraint('hop >= 0', name=op.f('ck_ground_truth_effect_hop_not_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_ground_truth_effect_application_id_application')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_ground_truth_effect_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_ground_truth_effect_event_id_event')),
    sa.ForeignKeyConstraint(['ground_truth_id'], ['ground_truth.id'], name=op.f('fk_ground_truth_effect_ground_truth_id_ground_truth')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_ground_truth_effect_service_id_service')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_ground_truth_effect_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('ground_truth_id', 'position', name=op.f('pk_ground_truth_effect')),
    sa.UniqueConstraint('event_id', name=op.f('uq_ground_truth_effect_event_id'))
    )
    op.create_index(op.f('ix_ground_truth_effect_service_id'), 'ground_truth_effect', ['service_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ground_truth_effect_service_id'), table_name='ground_truth_effect')
    op.drop_table('ground_truth_effect')
    op.drop_index(op.f('ix_ground_truth_start_ms'), table_name='ground_truth')
    op.drop_index(op.f('ix_ground_truth_service_id'), table_name='ground_truth')
    op.drop_table('ground_truth')
