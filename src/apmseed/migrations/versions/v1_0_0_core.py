"""dataset 1.0.0: core infrastructure, applications, services, endpoints, metrics, issues

Revision ID: 1.0.0
Revises: 
Create Date: 2026-11-27 08:59:02.937171
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1.0.0'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('apmseed_dataset',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('dataset_version', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('end_time_ms', sa.BigInteger(), nullable=False),
    sa.Column('options', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('tool_version', sa.String(length=32), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_apmseed_dataset_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apmseed_dataset'))
    )
    op.create_table('application',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('boundary_scope', sa.String(length=16), nullable=False),
    sa.Column('business_criticality', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("boundary_scope IN ('ALL', 'INBOUND', 'DEFAULT')", name=op.f('ck_application_boundary_scope')),
    sa.CheckConstraint('business_criticality BETWEEN 0 AND 5', name=op.f('ck_application_business_criticality')),
    sa.CheckConstraint('length(label) > 0', name=op.f('ck_application_label_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application')),
    sa.UniqueConstraint('label', name=op.f('uq_application_label'))
    )
    op.create_table('metric_definition',
    sa.Column('entity_kind', sa.String(length=16), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aggregations', postgresql.ARRAY(sa.String(length=8)), nullable=False),
    sa.Column('min_value', sa.Double(), nullable=True),
    sa.Column('max_value', sa.Double(), nullable=True),
    sa.CheckConstraint("aggregations <@ ARRAY['SUM', 'MEAN', 'MAX', 'MIN', 'P50', 'P90', 'P95', 'P99']::varchar[]", name=op.f('ck_metric_definition_aggregations_enum')),
    sa.CheckConstraint("entity_kind IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')", name=op.f('ck_metric_definition_entity_kind')),
    sa.CheckConstraint('min_value IS NULL OR max_value IS NULL OR min_value <= max_value', name=op.f('ck_metric_definition_range')),
    sa.PrimaryKeyConstraint('entity_kind', 'metric_id', name=op.f('pk_metric_definition'))
    )
    op.create_table('service',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('types', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('technologies', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.CheckConstraint("types <@ ARRAY['UNDEFINED', 'RPC', 'EVENT', 'GRAPHQL', 'BATCH', 'SHELL', 'HTTP', 'SDK', 'OPENTELEMETRY', 'INTERNAL', 'RPG', 'DATABASE', 'MESSAGING', 'PAGE', 'PAGE_RESOURCE']::varchar[]", name=op.f('ck_service_types_enum')),
    sa.CheckConstraint('cardinality(types) > 0', name=op.f('ck_service_types_not_empty')),
    sa.CheckConstraint('length(label) > 0', name=op.f('ck_service_label_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
    sa.UniqueConstraint('label', name=op.f('uq_service_label'))
    )
    op.create_table('snapshot',
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('plugin', sa.String(length=32), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('host', sa.Text(), nullable=False),
    sa.Column('parent_snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('from_ms', sa.BigInteger(), nullable=False),
    sa.Column('to_ms', sa.BigInteger(), nullable=True),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('tags', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("(plugin = 'host') = (parent_snapshot_id IS NULL)", name=op.f('ck_snapshot_parent_by_plugin')),
    sa.CheckConstraint("jsonb_typeof(data) = 'object'", name=op.f('ck_snapshot_data_object')),
    sa.CheckConstraint("jsonb_typeof(tags) = 'array'", name=op.f('ck_snapshot_tags_array')),
    sa.CheckConstraint("plugin IN ('host', 'docker', 'process')", name=op.f('ck_snapshot_plugin')),
    sa.CheckConstraint('to_ms IS NULL OR to_ms >= from_ms', name=op.f('ck_snapshot_to_after_from')),
    sa.ForeignKeyConstraint(['parent_snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_snapshot_parent_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('snapshot_id', name=op.f('pk_snapshot'))
    )
    op.create_index(op.f('ix_snapshot_parent_snapshot_id'), 'snapshot', ['parent_snapshot_id'], unique=False)
    op.create_table('application_service',
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_service_application_id_application')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_application_service_service_id_service')),
    sa.PrimaryKeyConstraint('application_id', 'service_id', name=op.f('pk_application_service'))
    )
    op.create_index(op.f('ix_application_service_service_id'), 'application_service', ['service_id'], unique=False)
    op.create_table('endpoint',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('technologies', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('synthetic_type', sa.String(length=16), nullable=False),
    sa.CheckConstraint("synthetic_type IN ('NON_SYNTHETIC', 'SYNTHETIC', 'MIXED')", name=op.f('ck_endpoint_synthetic_type')),
    sa.CheckConstraint("type IN ('UNDEFINED', 'RPC', 'EVENT', 'GRAPHQL', 'BATCH', 'SHELL', 'HTTP', 'SDK', 'OPENTELEMETRY', 'INTERNAL', 'RPG', 'DATABASE', 'MESSAGING', 'PAGE', 'PAGE_RESOURCE')", name=op.f('ck_endpoint_type_enum')),
    sa.CheckConstraint('length(label) > 0', name=op.f('ck_endpoint_label_not_empty')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_endpoint_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endpoint')),
    sa.UniqueConstraint('id', 'service_id', name=op.f('uq_endpoint_id_service_id')),
    sa.UniqueConstraint('service_id', 'label', name=op.f('uq_endpoint_service_id_label'))
    )
    op.create_index(op.f('ix_endpoint_service_id'), 'endpoint', ['service_id'], unique=False)
    op.create_table('service_snapshot',
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_snapshot_service_id_service')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_service_snapshot_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('service_id', 'snapshot_id', name=op.f('pk_service_snapshot'))
    )
    op.create_index(op.f('ix_service_snapshot_snapshot_id'), 'service_snapshot', ['snapshot_id'], unique=False)
    op.create_table('event',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('fix_suggestion', sa.Text(), nullable=False),
    sa.Column('entity_name', sa.Text(), nullable=False),
    sa.Column('entity_label', sa.Text(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("(state = 'closed') = (end_ms IS NOT NULL)", name=op.f('ck_event_end_iff_closed')),
    sa.CheckConstraint("CASE entity_type WHEN 'APPLICATION' THEN application_id IS NOT NULL AND num_nonnulls(service_id, endpoint_id, snapshot_id) = 0 WHEN 'SERVICE' THEN application_id IS NOT NULL AND service_id IS NOT NULL AND num_nonnulls(endpoint_id, snapshot_id) = 0 WHEN 'ENDPOINT' THEN application_id IS NOT NULL AND service_id IS NOT NULL AND endpoint_id IS NOT NULL AND snapshot_id IS NULL WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL AND num_nonnulls(application_id, service_id, endpoint_id) = 0 END", name=op.f('ck_event_entity_matches_type')),
    sa.CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE', 'ENDPOINT', 'INFRASTRUCTURE')", name=op.f('ck_event_entity_type')),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_event_state')),
    sa.CheckConstraint("type IN ('issue')", name=op.f('ck_event_type')),
    sa.CheckConstraint('end_ms IS NULL OR end_ms >= start_ms', name=op.f('ck_event_end_after_start')),
    sa.CheckConstraint('length(problem) > 0', name=op.f('ck_event_problem_not_empty')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_event_severity')),
    sa.ForeignKeyConstraint(['application_id', 'service_id'], ['application_service.application_id', 'application_service.service_id'], name=op.f('fk_event_application_id_application_service')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_event_application_id_application')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_event_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_event_service_id_service')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_event_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event'))
    )
    op.create_index(op.f('ix_event_application_id'), 'event', ['application_id'], unique=False)
    op.create_index(op.f('ix_event_endpoint_id'), 'event', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_event_service_id'), 'event', ['service_id'], unique=False)
    op.create_index(op.f('ix_event_snapshot_id'), 'event', ['snapshot_id'], unique=False)
    op.create_index(op.f('ix_event_start_ms'), 'event', ['start_ms'], unique=False)
    op.create_table('metric_series',
    sa.Column('series_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entity_kind', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('aggregation', sa.String(length=8), nullable=False),
    sa.Column('granularity_s', sa.Integer(), nullable=False),
    sa.Column('from_ms', sa.BigInteger(), nullable=False),
    sa.Column('to_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("CASE entity_kind WHEN 'APPLICATION' THEN application_id IS NOT NULL WHEN 'SERVICE' THEN service_id IS NOT NULL WHEN 'ENDPOINT' THEN endpoint_id IS NOT NULL WHEN 'INFRASTRUCTURE' THEN snapshot_id IS NOT NULL END", name=op.f('ck_metric_series_entity_matches_kind')),
    sa.CheckConstraint("aggregation IN ('SUM', 'MEAN', 'MAX', 'MIN', 'P50', 'P90', 'P95', 'P99')", name=op.f('ck_metric_series_aggregation')),
    sa.CheckConstraint('granularity_s > 0', name=op.f('ck_metric_series_granularity_positive')),
    sa.CheckConstraint('num_nonnulls(application_id, service_id, endpoint_id, snapshot_id) = 1', name=op.f('ck_metric_series_one_entity')),
    sa.CheckConstraint('to_ms > from_ms', name=op.f('ck_metric_series_window')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_metric_series_application_id_application')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoint.id'], name=op.f('fk_metric_series_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['entity_kind', 'metric_id'], ['metric_definition.entity_kind', 'metric_definition.metric_id'], name=op.f('fk_metric_series_entity_kind_metric_definition')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_metric_series_service_id_service')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_metric_series_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('series_id', name=op.f('pk_metric_series'))
    )
    op.create_index(op.f('ix_metric_series_application_id'), 'metric_series', ['application_id'], unique=False)
    op.create_index(op.f('ix_metric_series_endpoint_id'), 'metric_series', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_metric_series_service_id'), 'metric_series', ['service_id'], unique=False)
    op.create_index(op.f('ix_metric_series_snapshot_id'), 'metric_series', ['snapshot_id'], unique=False)
    op.create_index('uq_metric_series_entity_metric', 'metric_series', ['entity_kind', sa.literal_column('coalesce(application_id, service_id, endpoint_id, snapshot_id)'), 'metric_id', 'aggregation'], unique=True)
    op.create_table('metric_point',
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name=op.f('ck_metric_point_value_non_negative')),
    sa.ForeignKeyConstraint(['series_id'], ['metric_series.series_id'], name=op.f('fk_metric_point_series_id_metric_series')),
    sa.PrimaryKeyConstraint('series_id', 'ts_ms', name=op.f('pk_metric_point'))
    )


def downgrade() -> None:
    op.drop_table('metric_point')
    op.drop_index('uq_metric_series_entity_metric', table_name='metric_series')
    op.drop_index(op.f('ix_metric_series_snapshot_id'), table_name='metric_series')
    op.drop_index(op.f('ix_metric_series_service_id'), table_name='metric_series')
    op.drop_index(op.f('ix_metric_series_endpoint_id'), table_name='metric_series')
    op.drop_index(op.f('ix_metric_series_application_id'), table_name='metric_series')
    op.drop_table('metric_series')
    op.drop_index(op.f('ix_event_start_ms'), table_name='event')
    op.drop_index(op.f('ix_event_snapshot_id'), table_name='event')
    op.drop_index(op.f('ix_event_service_id'), table_name='event')
    op.drop_index(op.f('ix_event_endpoint_id'), table_name='event')
    op.drop_index(op.f('ix_event_application_id'), table_name='event')
    op.drop_table('event')
    op.drop_index(op.f('ix_service_snapshot_snapshot_id'), table_name='service_snapshot')
    op.drop_table('service_snapshot')
    op.drop_index(op.f('ix_endpoint_service_id'), table_name='endpoint')
    op.drop_table('endpoint')
    op.drop_index(op.f('ix_application_service_service_id'), table_name='application_service')
    op.drop_table('application_service')
    op.drop_index(op.f('ix_snapshot_parent_snapshot_id'), table_name='snapshot')
    op.drop_table('snapshot')
    op.drop_table('service')
    op.drop_table('metric_definition')
    op.drop_table('application')
    op.drop_table('apmseed_dataset')
