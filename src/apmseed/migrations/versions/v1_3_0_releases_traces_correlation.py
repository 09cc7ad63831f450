"""dataset 1.3.0: releases, traces, correlation

Revision ID: 1.3.0
Revises: 1.2.0
Create Date: 2026-11-27 09:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '1.3.0'
down_revision: str | None = '1.2.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('release',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('last_updated_ms', sa.BigInteger(), nullable=False),
    sa.Column('rollback_of_release_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint('last_updated_ms >= start_ms', name=op.f('ck_release_updated_after_start')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 256', name=op.f('ck_release_name_length')),
    sa.CheckConstraint('length(version) > 0', name=op.f('ck_release_version_not_empty')),
    sa.CheckConstraint('rollback_of_release_id <> id', name=op.f('ck_release_no_self_rollback')),
    sa.ForeignKeyConstraint(['rollback_of_release_id'], ['release.id'], name=op.f('fk_release_rollback_of_release_id_release')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_release'))
    )
    op.create_index(op.f('ix_release_start_ms'), 'release', ['start_ms'], unique=False)
    op.create_table('release_application',
    sa.Column('release_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_release_application_application_id_application')),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], name=op.f('fk_release_application_release_id_release')),
    sa.PrimaryKeyConstraint('release_id', 'application_id', name=op.f('pk_release_application'))
    )
    op.create_index(op.f('ix_release_application_application_id'), 'release_application', ['application_id'], unique=False)
    op.create_table('release_service',
    sa.Column('release_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id', 'service_id'], ['application_service.application_id', 'application_service.service_id'], name=op.f('fk_release_service_application_id_application_service')),
    sa.ForeignKeyConstraint(['release_id', 'application_id'], ['release_application.release_id', 'release_application.application_id'], name=op.f('fk_release_service_release_id_release_application')),
    sa.PrimaryKeyConstraint('release_id', 'service_id', 'application_id', name=op.f('pk_release_service'))
    )
    op.create_index(op.f('ix_release_service_service_id'), 'release_service', ['service_id'], unique=False)
    op.create_table('trace',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('erroneous', sa.Boolean(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("id ~ '^[0-9a-f]{16}$'", name=op.f('ck_trace_id_hex16')),
    sa.CheckConstraint('duration_ms >= 0', name=op.f('ck_trace_duration_non_negative')),
    sa.CheckConstraint('length(label) > 0', name=op.f('ck_trace_label_not_empty')),
    sa.ForeignKeyConstraint(['application_id', 'service_id'], ['application_service.application_id', 'application_service.service_id'], name=op.f('fk_trace_application_id_application_service')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_trace_endpoint_id_endpoint')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trace'))
    )
    op.create_index(op.f('ix_trace_application_id'), 'trace', ['application_id'], unique=False)
    op.create_index(op.f('ix_trace_service_id'), 'trace', ['service_id'], unique=False)
    op.create_index(op.f('ix_trace_start_ms'), 'trace', ['start_ms'], unique=False)
    # the one change to an older table: 1.2.0 log lines name traces. NOT VALID because the log lines are
    # already there when this runs and their traces are loaded right after it (by the 1.3.0 layer)
    op.create_foreign_key(op.f('fk_log_entry_trace_id_trace'), 'log_entry', 'trace', ['trace_id'], ['id'],
                          postgresql_not_valid=True)
    op.create_table('call',
    sa.Column('id', sa.String(length=16), nullable=False),
    sa.Column('trace_id', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.String(length=16), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('network_time_ms', sa.Integer(), nullable=True),
    sa.Column('error_count', sa.SmallInteger(), nullable=False),
    sa.Column('src_service_id', sa.String(length=64), nullable=True),
    sa.Column('dst_service_id', sa.String(length=64), nullable=False),
    sa.Column('dst_endpoint_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("id ~ '^[0-9a-f]{16}$'", name=op.f('ck_call_id_hex16')),
    sa.CheckConstraint('(parent_id IS NULL) = (src_service_id IS NULL)', name=op.f('ck_call_root_has_no_source')),
    sa.CheckConstraint('duration_ms >= 0', name=op.f('ck_call_duration_non_negative')),
    sa.CheckConstraint('error_count IN (0, 1)', name=op.f('ck_call_error_count')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 128', name=op.f('ck_call_name_length')),
    sa.CheckConstraint('network_time_ms >= 0 AND network_time_ms <= duration_ms', name=op.f('ck_call_network_within_duration')),
    sa.CheckConstraint('parent_id <> id', name=op.f('ck_call_not_own_parent')),
    sa.ForeignKeyConstraint(['dst_endpoint_id', 'dst_service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_call_dst_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['dst_service_id'], ['service.id'], name=op.f('fk_call_dst_service_id_service')),
    sa.ForeignKeyConstraint(['parent_id', 'trace_id', 'src_service_id'], ['call.id', 'call.trace_id', 'call.dst_service_id'], name=op.f('fk_call_parent_id_call')),
    sa.ForeignKeyConstraint(['src_service_id', 'dst_service_id'], ['service_connection.from_service_id', 'service_connection.to_service_id'], name=op.f('fk_call_src_service_id_service_connection')),
    sa.ForeignKeyConstraint(['trace_id'], ['trace.id'], name=op.f('fk_call_trace_id_trace')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call')),
    sa.UniqueConstraint('id', 'trace_id', 'dst_service_id', name=op.f('uq_call_id_trace_id_dst_service_id'))
    )
    op.create_index(op.f('ix_call_dst_endpoint_id'), 'call', ['dst_endpoint_id'], unique=False)
    op.create_index(op.f('ix_call_dst_service_id'), 'call', ['dst_service_id'], unique=False)
    op.create_index(op.f('ix_call_parent_id'), 'call', ['parent_id'], unique=False)
    op.create_index(op.f('ix_call_start_ms'), 'call', ['start_ms'], unique=False)
    op.create_index(op.f('ix_call_trace_id'), 'call', ['trace_id'], unique=False)
    op.create_index('uq_call_one_root_per_trace', 'call', ['trace_id'], unique=True, postgresql_where=sa.text('parent_id IS NULL'))
    op.create_table('change_event',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('release_id', sa.String(length=64), nullable=False),
    sa.Column('entity_type', sa.String(length=16), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('entity_label', sa.Text(), nullable=False),
    sa.CheckConstraint("(entity_type = 'SERVICE') = (service_id IS NOT NULL)", name=op.f('ck_change_event_entity_matches_type')),
    sa.CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE')", name=op.f('ck_change_event_entity_type')),
    sa.CheckConstraint('end_ms >= start_ms', name=op.f('ck_change_event_end_after_start')),
    sa.CheckConstraint('length(problem) > 0', name=op.f('ck_change_event_problem_not_empty')),
    sa.ForeignKeyConstraint(['release_id', 'application_id'], ['release_application.release_id', 'release_application.application_id'], name=op.f('fk_change_event_release_id_release_application')),
    sa.ForeignKeyConstraint(['release_id', 'service_id', 'application_id'], ['release_service.release_id', 'release_service.service_id', 'release_service.application_id'], name=op.f('fk_change_event_release_id_release_service')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_change_event')),
    sa.UniqueConstraint('release_id', name=op.f('uq_change_event_release_id'))
    )
    op.create_index(op.f('ix_change_event_application_id'), 'change_event', ['application_id'], unique=False)
    op.create_index(op.f('ix_change_event_service_id'), 'change_event', ['service_id'], unique=False)
    op.create_index(op.f('ix_change_event_start_ms'), 'change_event', ['start_ms'], unique=False)
    op.create_table('event_metric',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('series_id', sa.Integer(), nullable=False),
    sa.Column('window_from_ms', sa.BigInteger(), nullable=False),
    sa.Column('window_to_ms', sa.BigInteger(), nullable=False),
    sa.Column('window_mean', sa.Double(), nullable=False),
    sa.Column('baseline_mean', sa.Double(), nullable=False),
    sa.Column('peak', sa.Double(), nullable=False),
    sa.CheckConstraint('peak >= window_mean', name=op.f('ck_event_metric_peak_at_least_mean')),
    sa.CheckConstraint('window_mean > baseline_mean', name=op.f('ck_event_metric_excursion')),
    sa.CheckConstraint('window_to_ms > window_from_ms', name=op.f('ck_event_metric_window')),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_event_metric_event_id_event')),
    sa.ForeignKeyConstraint(['series_id'], ['metric_series.series_id'], name=op.f('fk_event_metric_series_id_metric_series')),
    sa.PrimaryKeyConstraint('event_id', 'series_id', name=op.f('pk_event_metric'))
    )
    op.create_index(op.f('ix_event_metric_series_id'), 'event_metric', ['series_id'], unique=False)
    op.create_table('incident',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('triggering_event_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('end_ms', sa.BigInteger(), nullable=True),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('fix_suggestion', sa.Text(), nullable=False),
    sa.Column('entity_label', sa.Text(), nullable=False),
    sa.CheckConstraint("(state = 'closed') = (end_ms IS NOT NULL)", name=op.f('ck_incident_end_iff_closed')),
    sa.CheckConstraint("state IN ('open', 'closed')", name=op.f('ck_incident_state')),
    sa.CheckConstraint('end_ms IS NULL OR end_ms >= start_ms', name=op.f('ck_incident_end_after_start')),
    sa.CheckConstraint('length(problem) > 0', name=op.f('ck_incident_problem_not_empty')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_incident_severity')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_incident_application_id_application')),
    sa.ForeignKeyConstraint(['triggering_event_id'], ['event.event_id'], name=op.f('fk_incident_triggering_event_id_event')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_incident'))
    )
    op.create_index(op.f('ix_incident_application_id'), 'incident', ['application_id'], unique=False)
    op.create_index(op.f('ix_incident_start_ms'), 'incident', ['start_ms'], unique=False)
    op.create_index(op.f('ix_incident_triggering_event_id'), 'incident', ['triggering_event_id'], unique=False)
    op.create_table('release_issue',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('release_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_release_issue_event_id_event')),
    sa.ForeignKeyConstraint(['release_id'], ['release.id'], name=op.f('fk_release_issue_release_id_release')),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_release_issue'))
    )
    op.create_index(op.f('ix_release_issue_release_id'), 'release_issue', ['release_id'], unique=False)
    op.create_table('incident_event',
    sa.Column('incident_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_incident_event_event_id_event')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.event_id'], name=op.f('fk_incident_event_incident_id_incident')),
    sa.PrimaryKeyConstraint('incident_id', 'event_id', name=op.f('pk_incident_event'))
    )
    op.create_index(op.f('ix_incident_event_event_id'), 'incident_event', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_constraint(op.f('fk_log_entry_trace_id_trace'), 'log_entry', type_='foreignkey')
    op.drop_index(op.f('ix_incident_event_event_id'), table_name='incident_event')
    op.drop_table('incident_event')
    op.drop_index(op.f('ix_release_issue_release_id'), table_name='release_issue')
    op.drop_table('release_issue')
    op.drop_index(op.f('ix_incident_triggering_event_id'), table_name='incident')
    op.drop_index(op.f('ix_incident_start_ms'), table_name='incident')
    op.drop_index(op.f('ix_incident_application_id'), table_name='incident')
    op.drop_table('incident')
    op.drop_index(op.f('ix_event_metric_series_id'), table_name='event_metric')
    op.drop_table('event_metric')
    op.drop_index(op.f('ix_change_event_start_ms'), table_name='change_event')
    op.drop_index(op.f('ix_change_event_service_id'), table_name='change_event')
    op.drop_index(op.f('ix_change_event_application_id'), table_name='change_event')
    op.drop_table('change_event')
    op.drop_index('uq_call_one_root_per_trace', table_name='call', postgresql_where=sa.text('parent_id IS NULL'))
    op.drop_index(op.f('ix_call_trace_id'), table_name='call')
    op.drop_index(op.f('ix_call_start_ms'), table_name='call')
    op.drop_index(op.f('ix_call_parent_id'), table_name='call')
    op.drop_index(op.f('ix_call_dst_service_id'), table_name='call')
    op.drop_index(op.f('ix_call_dst_endpoint_id'), table_name='call')
    op.drop_table('call')
    op.drop_index(op.f('ix_trace_start_ms'), table_name='trace')
    op.drop_index(op.f('ix_trace_service_id'), table_name='trace')
    op.drop_index(op.f('ix_trace_application_id'), table_name='trace')
    op.drop_table('trace')
    op.drop_index(op.f('ix_release_service_service_id'), table_name='release_service')
    op.drop_table('release_service')
    op.drop_index(op.f('ix_release_application_application_id'), table_name='release_application')
    op.drop_table('release_application')
    op.drop_index(op.f('ix_release_start_ms'), table_name='release')
    op.drop_table('release')
