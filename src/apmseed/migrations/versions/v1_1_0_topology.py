"""dataset 1.1.0: infrastructure and application topology, entity-type catalog, alerting channels and Smart Alert
configs

Revision ID: 1.1.0
Revises: 1.0.0
Create Date: 2026-11-27 09:08:52.902298
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

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
    # alerting: channels, Smart Alert configs and their scope tree
    op.create_table('alerting_channel',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("CASE kind WHEN 'EMAIL' THEN details ? 'emails' AND jsonb_typeof(details->'emails') = 'array' AND jsonb_array_length(details->'emails') > 0 WHEN 'SLACK' THEN details ? 'webhookUrl' WHEN 'WEB_HOOK' THEN details ? 'webhookUrls' AND jsonb_typeof(details->'webhookUrls') = 'array' AND jsonb_array_length(details->'webhookUrls') > 0 WHEN 'PAGER_DUTY' THEN details ? 'serviceIntegrationKey' WHEN 'OFFICE_365' THEN details ? 'webhookUrl' WHEN 'GOOGLE_CHAT' THEN details ? 'webhookUrl' WHEN 'OPS_GENIE' THEN details ? 'apiKey' AND details ? 'region' WHEN 'SPLUNK' THEN details ? 'url' AND details ? 'token' WHEN 'SERVICE_NOW_APPLICATION' THEN details ? 'serviceNowUrl' AND details ? 'username' AND details ? 'password' AND details ? 'tenant' AND details ? 'unit' WHEN 'SERVICE_NOW_WEBHOOK' THEN details ? 'serviceNowUrl' AND details ? 'username' AND details ? 'password' WHEN 'VICTOR_OPS' THEN details ? 'apiKey' AND details ? 'routingKey' WHEN 'PROMETHEUS_WEBHOOK' THEN details ? 'webhookUrl' WHEN 'WATSON_AIOPS_WEBHOOK' THEN details ? 'webhookUrl' WHEN 'WEBEX_TEAMS_WEBHOOK' THEN details ? 'webhookUrl' WHEN 'NS1' THEN details ? 'webhookUrls' AND jsonb_typeof(details->'webhookUrls') = 'array' AND jsonb_array_length(details->'webhookUrls') > 0 WHEN 'SALESFORCE' THEN details ? 'salesforceUrl' AND details ? 'clientId' AND details ? 'clientSecret' WHEN 'BIDIRECTIONAL_MS_TEAMS' THEN details ? 'apiTokenId' AND details ? 'channelId' AND details ? 'channelName' AND details ? 'instanaUrl' AND details ? 'teamId' AND details ? 'tenantId' ELSE TRUE END", name=op.f('ck_alerting_channel_details_required_keys')),
    sa.CheckConstraint("NOT details ?| ARRAY['id', 'kind', 'name']", name=op.f('ck_alerting_channel_details_not_overlapping')),
    sa.CheckConstraint("jsonb_typeof(details) = 'object'", name=op.f('ck_alerting_channel_details_object')),
    sa.CheckConstraint("kind IN ('EMAIL', 'SLACK', 'WEB_HOOK', 'PAGER_DUTY', 'OFFICE_365', 'GOOGLE_CHAT', 'OPS_GENIE', 'SPLUNK', 'SERVICE_NOW_APPLICATION', 'SERVICE_NOW_WEBHOOK', 'VICTOR_OPS', 'PROMETHEUS_WEBHOOK', 'WATSON_AIOPS_WEBHOOK', 'WEBEX_TEAMS_WEBHOOK', 'NS1', 'SALESFORCE', 'Z_CHATOPS', 'BIDIRECTIONAL_MS_TEAMS', 'BIDIRECTIONAL_SLACK')", name=op.f('ck_alerting_channel_kind')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_alerting_channel_name_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerting_channel')),
    sa.UniqueConstraint('name', name=op.f('uq_alerting_channel_name'))
    )
    op.create_table('alert_config',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=24), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('boundary_scope', sa.String(length=16), nullable=True),
    sa.Column('evaluation_type', sa.String(length=16), nullable=False),
    sa.Column('granularity_ms', sa.Integer(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('triggering', sa.Boolean(), nullable=False),
    sa.Column('rule', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('threshold_operator', sa.String(length=8), nullable=False),
    sa.Column('thresholds', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('time_threshold', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('tag_filter_expression', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('custom_payload_fields', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('group_by', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('grace_period_ms', sa.BigInteger(), nullable=True),
    sa.Column('include_internal', sa.Boolean(), nullable=True),
    sa.Column('include_synthetic', sa.Boolean(), nullable=True),
    sa.Column('built_in', sa.Boolean(), nullable=True),
    sa.Column('snapshot_id', sa.String(length=64), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('initial_created_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(family = 'APPLICATION') = (application_id IS NOT NULL)", name=op.f('ck_alert_config_application_iff_family')),
    sa.CheckConstraint("(family = 'GLOBAL_APPLICATION') = (built_in IS NOT NULL)", name=op.f('ck_alert_config_built_in_iff_global')),
    sa.CheckConstraint("(family = 'INFRA') = (boundary_scope IS NULL)", name=op.f('ck_alert_config_boundary_scope_iff_application')),
    sa.CheckConstraint("(family = 'INFRA') = (include_internal IS NULL AND include_synthetic IS NULL)", name=op.f('ck_alert_config_call_flags_iff_application')),
    sa.CheckConstraint("CASE family WHEN 'INFRA' THEN evaluation_type IN ('PER_ENTITY', 'CUSTOM') ELSE evaluation_type IN ('PER_AP', 'PER_AP_SERVICE', 'PER_AP_ENDPOINT', 'CUSTOM') END", name=op.f('ck_alert_config_evaluation_type_by_family')),
    sa.CheckConstraint("CASE family WHEN 'INFRA' THEN time_threshold->>'type' = 'violationsInSequence' ELSE time_threshold->>'type' IN ('violationsInSequence', 'violationsInPeriod', 'requestImpact') END", name=op.f('ck_alert_config_time_threshold_by_family')),
    sa.CheckConstraint("boundary_scope IN ('ALL', 'INBOUND')", name=op.f('ck_alert_config_boundary_scope')),
    sa.CheckConstraint("family IN ('APPLICATION', 'GLOBAL_APPLICATION', 'INFRA')", name=op.f('ck_alert_config_family')),
    sa.CheckConstraint("jsonb_typeof(custom_payload_fields) = 'array' AND jsonb_array_length(custom_payload_fields) <= 20", name=op.f('ck_alert_config_custom_payload_fields')),
    sa.CheckConstraint("jsonb_typeof(group_by) = 'array' AND jsonb_array_length(group_by) <= 5", name=op.f('ck_alert_config_group_by')),
    sa.CheckConstraint("jsonb_typeof(rule) = 'object' AND rule ? 'metricName' AND CASE family WHEN 'INFRA' THEN rule->>'alertType' = 'genericRule' AND rule ? 'entityType' ELSE rule->>'alertType' IN ('slowness', 'errorRate', 'errors', 'throughput', 'statusCode', 'logs', 'customMetric') END", name=op.f('ck_alert_config_rule_by_family')),
    sa.CheckConstraint("jsonb_typeof(thresholds) = 'object' AND thresholds - 'warning' - 'critical' = '{}'::jsonb AND thresholds ? CASE severity WHEN 10 THEN 'critical' ELSE 'warning' END", name=op.f('ck_alert_config_thresholds_hold_severity')),
    sa.CheckConstraint("snapshot_id IS NULL OR family = 'INFRA'", name=op.f('ck_alert_config_snapshot_only_infra')),
    sa.CheckConstraint("tag_filter_expression IS NULL OR tag_filter_expression->>'type' IN ('TAG_FILTER', 'EXPRESSION')", name=op.f('ck_alert_config_tag_filter_expression')),
    sa.CheckConstraint("threshold_operator IN ('>', '>=', '<', '<=', 'OUTSIDE', 'BETWEEN')", name=op.f('ck_alert_config_threshold_operator')),
    sa.CheckConstraint('grace_period_ms IS NULL OR grace_period_ms > 0', name=op.f('ck_alert_config_grace_period_positive')),
    sa.CheckConstraint('granularity_ms IN (60000, 300000, 600000, 900000, 1200000, 1800000)', name=op.f('ck_alert_config_granularity')),
    sa.CheckConstraint('initial_created_ms > 0 AND created_ms >= initial_created_ms', name=op.f('ck_alert_config_created_after_initial')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 256', name=op.f('ck_alert_config_name_length')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_alert_config_severity')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_alert_config_application_id_application')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_alert_config_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_config')),
    sa.UniqueConstraint('application_id', 'id', name=op.f('uq_alert_config_application_id_id')),
    sa.UniqueConstraint('id', 'family', name=op.f('uq_alert_config_id_family'))
    )
    op.create_index(op.f('ix_alert_config_snapshot_id'), 'alert_config', ['snapshot_id'], unique=False)
    op.create_table('alert_config_channel',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['alert_config_id'], ['alert_config.id'], name=op.f('fk_alert_config_channel_alert_config_id_alert_config')),
    sa.ForeignKeyConstraint(['channel_id'], ['alerting_channel.id'], name=op.f('fk_alert_config_channel_channel_id_alerting_channel')),
    sa.PrimaryKeyConstraint('alert_config_id', 'channel_id', name=op.f('pk_alert_config_channel'))
    )
    op.create_index(op.f('ix_alert_config_channel_channel_id'), 'alert_config_channel', ['channel_id'], unique=False)
    op.create_table('alert_scope_application',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=24), nullable=False),
    sa.Column('config_application_id', sa.String(length=64), nullable=True),
    sa.Column('inclusive', sa.Boolean(), nullable=False),
    sa.CheckConstraint("(family = 'APPLICATION') = (config_application_id IS NOT NULL)", name=op.f('ck_alert_scope_application_config_application_iff_family')),
    sa.CheckConstraint("family IN ('APPLICATION', 'GLOBAL_APPLICATION')", name=op.f('ck_alert_scope_application_family')),
    sa.CheckConstraint('config_application_id IS NULL OR config_application_id = application_id', name=op.f('ck_alert_scope_application_own_application')),
    sa.ForeignKeyConstraint(['alert_config_id', 'family'], ['alert_config.id', 'alert_config.family'], name=op.f('fk_alert_scope_application_alert_config_id_alert_config')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_alert_scope_application_application_id_application')),
    sa.ForeignKeyConstraint(['config_application_id', 'alert_config_id'], ['alert_config.application_id', 'alert_config.id'], name=op.f('fk_alert_scope_application_config_application_id_alert_config')),
    sa.PrimaryKeyConstraint('alert_config_id', 'application_id', name=op.f('pk_alert_scope_application'))
    )
    op.create_index(op.f('ix_alert_scope_application_application_id'), 'alert_scope_application', ['application_id'], unique=False)
    op.create_table('alert_scope_service',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('inclusive', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['alert_config_id', 'application_id'], ['alert_scope_application.alert_config_id', 'alert_scope_application.application_id'], name=op.f('fk_alert_scope_service_alert_config_id_alert_scope_application')),
    sa.ForeignKeyConstraint(['application_id', 'service_id'], ['application_service.application_id', 'application_service.service_id'], name=op.f('fk_alert_scope_service_application_id_application_service')),
    sa.PrimaryKeyConstraint('alert_config_id', 'application_id', 'service_id', name=op.f('pk_alert_scope_service'))
    )
    op.create_index(op.f('ix_alert_scope_service_service_id'), 'alert_scope_service', ['service_id'], unique=False)
    op.create_table('alert_scope_endpoint',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.String(length=64), nullable=False),
    sa.Column('inclusive', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['alert_config_id', 'application_id', 'service_id'], ['alert_scope_service.alert_config_id', 'alert_scope_service.application_id', 'alert_scope_service.service_id'], name=op.f('fk_alert_scope_endpoint_alert_config_id_alert_scope_service')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_alert_scope_endpoint_endpoint_id_endpoint')),
    sa.PrimaryKeyConstraint('alert_config_id', 'application_id', 'service_id', 'endpoint_id', name=op.f('pk_alert_scope_endpoint'))
    )
    op.create_index(op.f('ix_alert_scope_endpoint_endpoint_id'), 'alert_scope_endpoint', ['endpoint_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_alert_scope_endpoint_endpoint_id'), table_name='alert_scope_endpoint')
    op.drop_table('alert_scope_endpoint')
    op.drop_index(op.f('ix_alert_scope_service_service_id'), table_name='alert_scope_service')
    op.drop_table('alert_scope_service')
    op.drop_index(op.f('ix_alert_scope_application_application_id'), table_name='alert_scope_application')
    op.drop_table('alert_scope_application')
    op.drop_index(op.f('ix_alert_config_channel_channel_id'), table_name='alert_config_channel')
    op.drop_table('alert_config_channel')
    op.drop_index(op.f('ix_alert_config_snapshot_id'), table_name='alert_config')
    op.drop_table('alert_config')
    op.drop_table('alerting_channel')
    op.drop_index(op.f('ix_snapshot_relation_destination_snapshot_id'), table_name='snapshot_relation')
    op.drop_table('snapshot_relation')
    op.drop_index(op.f('ix_service_connection_to_service_id'), table_name='service_connection')
    op.drop_table('service_connection')
    op.drop_table('entity_type')
