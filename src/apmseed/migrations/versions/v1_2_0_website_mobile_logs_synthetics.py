"""dataset 1.2.0: website, mobile, logs, synthetics

Revision ID: 1.2.0
Revises: 1.1.0
Create Date: 2026-11-27 09:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1.2.0'
down_revision: str | None = '1.1.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mobile_metric_definition',
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('formatter', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aggregations', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('default_aggregation', sa.String(length=16), nullable=False),
    sa.Column('beacon_types', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('path_to_value', postgresql.ARRAY(sa.Text()), nullable=True),
    sa.CheckConstraint("aggregations <@ ARRAY['SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE']::varchar[] AND cardinality(aggregations) > 0", name=op.f('ck_mobile_metric_definition_aggregations_enum')),
    sa.CheckConstraint("beacon_types <@ ARRAY['sessionStart', 'httpRequest', 'crash']::varchar[] AND cardinality(beacon_types) > 0", name=op.f('ck_mobile_metric_definition_beacon_types_enum')),
    sa.CheckConstraint("formatter IN ('NUMBER', 'MILLIS', 'BYTES', 'PERCENTAGE', 'LATENCY')", name=op.f('ck_mobile_metric_definition_formatter')),
    sa.CheckConstraint('default_aggregation = ANY(aggregations)', name=op.f('ck_mobile_metric_definition_default_aggregation_listed')),
    sa.PrimaryKeyConstraint('metric_id', name=op.f('pk_mobile_metric_definition'))
    )
    op.create_table('synthetic_location',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('display_label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location_type', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('pop_version', sa.String(length=32), nullable=False),
    sa.Column('city_name', sa.Text(), nullable=False),
    sa.Column('country_name', sa.Text(), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=False),
    sa.Column('longitude', sa.Double(), nullable=False),
    sa.Column('synthetic_types', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('browser_types', postgresql.ARRAY(sa.String(length=8)), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("browser_types <@ ARRAY['chrome', 'firefox']::varchar[]", name=op.f('ck_synthetic_location_browser_types_enum')),
    sa.CheckConstraint("location_type IN ('Managed', 'Private')", name=op.f('ck_synthetic_location_location_type')),
    sa.CheckConstraint("status IN ('Online', 'Offline')", name=op.f('ck_synthetic_location_status')),
    sa.CheckConstraint("synthetic_types <@ ARRAY['HTTPAction', 'HTTPScript', 'BrowserScript', 'WebpageAction', 'WebpageScript', 'DNS', 'SSLCertificate', 'ICMP', 'NotConfigured']::varchar[] AND cardinality(synthetic_types) > 0", name=op.f('ck_synthetic_location_synthetic_types_enum')),
    sa.CheckConstraint('latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180', name=op.f('ck_synthetic_location_geo_point')),
    sa.CheckConstraint('length(label) BETWEEN 1 AND 128', name=op.f('ck_synthetic_location_label_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synthetic_location')),
    sa.UniqueConstraint('label', name=op.f('uq_synthetic_location_label'))
    )
    op.create_table('website_metric_definition',
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('formatter', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('aggregations', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('default_aggregation', sa.String(length=16), nullable=False),
    sa.Column('beacon_types', postgresql.ARRAY(sa.String(length=16)), nullable=False),
    sa.Column('path_to_value', postgresql.ARRAY(sa.Text()), nullable=True),
    sa.CheckConstraint("aggregations <@ ARRAY['SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE']::varchar[] AND cardinality(aggregations) > 0", name=op.f('ck_website_metric_definition_aggregations_enum')),
    sa.CheckConstraint("beacon_types <@ ARRAY['pageLoad', 'resourceLoad', 'httpRequest', 'error']::varchar[] AND cardinality(beacon_types) > 0", name=op.f('ck_website_metric_definition_beacon_types_enum')),
    sa.CheckConstraint("formatter IN ('NUMBER', 'MILLIS', 'BYTES', 'PERCENTAGE', 'LATENCY')", name=op.f('ck_website_metric_definition_formatter')),
    sa.CheckConstraint('default_aggregation = ANY(aggregations)', name=op.f('ck_website_metric_definition_default_aggregation_listed')),
    sa.PrimaryKeyConstraint('metric_id', name=op.f('pk_website_metric_definition'))
    )
    op.create_table('mobile_app',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('platform', sa.String(length=8), nullable=False),
    sa.Column('bundle_identifier', sa.Text(), nullable=False),
    sa.Column('business_criticality', sa.SmallInteger(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.CheckConstraint("bundle_identifier ~ '^[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)+$'", name=op.f('ck_mobile_app_bundle_identifier')),
    sa.CheckConstraint("platform IN ('iOS', 'Android')", name=op.f('ck_mobile_app_platform')),
    sa.CheckConstraint('business_criticality BETWEEN 0 AND 5', name=op.f('ck_mobile_app_business_criticality')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 128', name=op.f('ck_mobile_app_name_length')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_mobile_app_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_app')),
    sa.UniqueConstraint('name', name=op.f('uq_mobile_app_name'))
    )
    op.create_index(op.f('ix_mobile_app_application_id'), 'mobile_app', ['application_id'], unique=False)
    op.create_table('website',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('app_name', sa.Text(), nullable=False),
    sa.Column('business_criticality', sa.SmallInteger(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.Text(), nullable=False),
    sa.CheckConstraint("origin ~ '^https://[a-z0-9.-]+$'", name=op.f('ck_website_origin_url')),
    sa.CheckConstraint('business_criticality BETWEEN 0 AND 5', name=op.f('ck_website_business_criticality')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_website_name_not_empty')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_website_application_id_application')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_website')),
    sa.UniqueConstraint('id', 'application_id', name=op.f('uq_website_id_application_id')),
    sa.UniqueConstraint('name', name=op.f('uq_website_name')),
    sa.UniqueConstraint('origin', name=op.f('uq_website_origin'))
    )
    op.create_index(op.f('ix_website_application_id'), 'website', ['application_id'], unique=False)
    op.create_table('mobile_app_alert_config',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('mobile_app_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('triggering', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('granularity_ms', sa.Integer(), nullable=False),
    sa.Column('alert_type', sa.String(length=16), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('rule_operator', sa.String(length=32), nullable=True),
    sa.Column('rule_value', sa.Text(), nullable=True),
    sa.Column('threshold_operator', sa.String(length=2), nullable=False),
    sa.Column('warning_value', sa.Double(), nullable=True),
    sa.Column('critical_value', sa.Double(), nullable=False),
    sa.Column('time_threshold', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('tag_filter_expression', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('custom_payload_fields', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('initial_created_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(alert_type = 'statusCode') = (rule_operator IS NOT NULL)", name=op.f('ck_mobile_app_alert_config_rule_operator_by_type')),
    sa.CheckConstraint("aggregation IN ('SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE')", name=op.f('ck_mobile_app_alert_config_aggregation')),
    sa.CheckConstraint("alert_type IN ('crash', 'slowness', 'statusCode', 'throughput', 'customEvent')", name=op.f('ck_mobile_app_alert_config_alert_type')),
    sa.CheckConstraint("jsonb_typeof(custom_payload_fields) = 'array'", name=op.f('ck_mobile_app_alert_config_custom_payload_fields_array')),
    sa.CheckConstraint("jsonb_typeof(tag_filter_expression) = 'object' AND tag_filter_expression->>'type' IN ('EXPRESSION', 'TAG_FILTER')", name=op.f('ck_mobile_app_alert_config_tag_filter_expression_type')),
    sa.CheckConstraint("jsonb_typeof(time_threshold) = 'object' AND time_threshold->>'type' IN ('violationsInSequence', 'violationsInPeriod', 'userImpactOfViolationsInSequence')", name=op.f('ck_mobile_app_alert_config_time_threshold_type')),
    sa.CheckConstraint("threshold_operator IN ('>', '>=', '<', '<=')", name=op.f('ck_mobile_app_alert_config_threshold_operator')),
    sa.CheckConstraint("warning_value IS NULL OR CASE WHEN threshold_operator IN ('>', '>=') THEN warning_value < critical_value ELSE warning_value > critical_value END", name=op.f('ck_mobile_app_alert_config_warning_before_critical')),
    sa.CheckConstraint('critical_value >= 0 AND (warning_value IS NULL OR warning_value >= 0)', name=op.f('ck_mobile_app_alert_config_thresholds_non_negative')),
    sa.CheckConstraint('granularity_ms IN (60000, 300000, 600000, 900000, 1200000, 1800000)', name=op.f('ck_mobile_app_alert_config_granularity')),
    sa.CheckConstraint('initial_created_ms <= created_ms', name=op.f('ck_mobile_app_alert_config_created_after_initial')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 256', name=op.f('ck_mobile_app_alert_config_name_length')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_mobile_app_alert_config_severity')),
    sa.ForeignKeyConstraint(['metric_id'], ['mobile_metric_definition.metric_id'], name=op.f('fk_mobile_app_alert_config_metric_id_mobile_metric_definition')),
    sa.ForeignKeyConstraint(['mobile_app_id'], ['mobile_app.id'], name=op.f('fk_mobile_app_alert_config_mobile_app_id_mobile_app')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobile_app_alert_config'))
    )
    op.create_index(op.f('ix_mobile_app_alert_config_mobile_app_id'), 'mobile_app_alert_config', ['mobile_app_id'], unique=False)
    op.create_table('mobile_metric_point',
    sa.Column('mobile_app_id', sa.String(length=64), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('granularity_s', sa.Integer(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.CheckConstraint("aggregation IN ('SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE')", name=op.f('ck_mobile_metric_point_aggregation')),
    sa.CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name=op.f('ck_mobile_metric_point_value_non_negative')),
    sa.CheckConstraint('granularity_s > 0', name=op.f('ck_mobile_metric_point_granularity_positive')),
    sa.ForeignKeyConstraint(['metric_id'], ['mobile_metric_definition.metric_id'], name=op.f('fk_mobile_metric_point_metric_id_mobile_metric_definition')),
    sa.ForeignKeyConstraint(['mobile_app_id'], ['mobile_app.id'], name=op.f('fk_mobile_metric_point_mobile_app_id_mobile_app')),
    sa.PrimaryKeyConstraint('mobile_app_id', 'metric_id', 'aggregation', 'ts_ms', name=op.f('pk_mobile_metric_point'))
    )
    op.create_table('mobile_session',
    sa.Column('session_id', sa.String(length=16), nullable=False),
    sa.Column('mobile_app_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('app_version', sa.Text(), nullable=False),
    sa.Column('app_build', sa.Text(), nullable=False),
    sa.Column('os_version', sa.Text(), nullable=False),
    sa.Column('device_manufacturer', sa.Text(), nullable=False),
    sa.Column('device_model', sa.Text(), nullable=False),
    sa.Column('carrier', sa.Text(), nullable=True),
    sa.Column('connection_type', sa.String(length=8), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('city', sa.Text(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.CheckConstraint("connection_type IN ('wifi', 'cellular')", name=op.f('ck_mobile_session_connection_type')),
    sa.CheckConstraint("country_code ~ '^[A-Z]{2}$'", name=op.f('ck_mobile_session_country_code')),
    sa.ForeignKeyConstraint(['mobile_app_id'], ['mobile_app.id'], name=op.f('fk_mobile_session_mobile_app_id_mobile_app')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_mobile_session')),
    sa.UniqueConstraint('session_id', 'mobile_app_id', name=op.f('uq_mobile_session_session_id_mobile_app_id'))
    )
    op.create_index(op.f('ix_mobile_session_mobile_app_id'), 'mobile_session', ['mobile_app_id'], unique=False)
    op.create_table('synthetic_test',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('label', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('test_frequency_min', sa.Integer(), nullable=False),
    sa.Column('playback_mode', sa.String(length=16), nullable=False),
    sa.Column('synthetic_type', sa.String(length=16), nullable=False),
    sa.Column('configuration', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('website_id', sa.String(length=64), nullable=True),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('modified_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("CASE WHEN synthetic_type IN ('HTTPAction', 'HTTPScript') THEN num_nonnulls(endpoint_id, service_id) = 2 AND website_id IS NULL WHEN synthetic_type IN ('BrowserScript', 'WebpageAction', 'WebpageScript') THEN website_id IS NOT NULL AND num_nonnulls(endpoint_id, service_id) = 0 ELSE TRUE END", name=op.f('ck_synthetic_test_target_by_type')),
    sa.CheckConstraint("jsonb_typeof(configuration) = 'object' AND configuration->>'syntheticType' = synthetic_type AND jsonb_typeof(configuration->'markSyntheticCall') = 'boolean'", name=op.f('ck_synthetic_test_configuration_matches_type')),
    sa.CheckConstraint("playback_mode IN ('Simultaneous', 'Staggered')", name=op.f('ck_synthetic_test_playback_mode')),
    sa.CheckConstraint("synthetic_type IN ('HTTPAction', 'HTTPScript', 'BrowserScript', 'WebpageAction', 'WebpageScript', 'DNS', 'SSLCertificate', 'ICMP', 'NotConfigured')", name=op.f('ck_synthetic_test_synthetic_type')),
    sa.CheckConstraint("synthetic_type NOT IN ('HTTPAction', 'WebpageAction') OR configuration->>'url' = url", name=op.f('ck_synthetic_test_configuration_url')),
    sa.CheckConstraint("url ~ '^https://[a-z0-9.-]+(/[^ ]*)?$'", name=op.f('ck_synthetic_test_url_format')),
    sa.CheckConstraint('description IS NULL OR length(description) <= 512', name=op.f('ck_synthetic_test_description_length')),
    sa.CheckConstraint('length(label) BETWEEN 1 AND 128', name=op.f('ck_synthetic_test_label_length')),
    sa.CheckConstraint('modified_ms >= created_ms', name=op.f('ck_synthetic_test_modified_after_created')),
    sa.CheckConstraint('test_frequency_min BETWEEN 1 AND 1440', name=op.f('ck_synthetic_test_test_frequency')),
    sa.ForeignKeyConstraint(['application_id', 'service_id'], ['application_service.application_id', 'application_service.service_id'], name=op.f('fk_synthetic_test_application_id_application_service')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_synthetic_test_application_id_application')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_synthetic_test_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['website_id', 'application_id'], ['website.id', 'website.application_id'], name=op.f('fk_synthetic_test_website_id_website')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_synthetic_test')),
    sa.UniqueConstraint('label', name=op.f('uq_synthetic_test_label'))
    )
    op.create_index(op.f('ix_synthetic_test_application_id'), 'synthetic_test', ['application_id'], unique=False)
    op.create_index(op.f('ix_synthetic_test_endpoint_id'), 'synthetic_test', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_synthetic_test_service_id'), 'synthetic_test', ['service_id'], unique=False)
    op.create_index(op.f('ix_synthetic_test_website_id'), 'synthetic_test', ['website_id'], unique=False)
    op.create_table('website_alert_config',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('website_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('triggering', sa.Boolean(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('granularity_ms', sa.Integer(), nullable=False),
    sa.Column('alert_type', sa.String(length=16), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('rule_operator', sa.String(length=32), nullable=True),
    sa.Column('rule_value', sa.Text(), nullable=True),
    sa.Column('threshold_operator', sa.String(length=2), nullable=False),
    sa.Column('warning_value', sa.Double(), nullable=True),
    sa.Column('critical_value', sa.Double(), nullable=False),
    sa.Column('time_threshold', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('tag_filter_expression', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('custom_payload_fields', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('initial_created_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("(alert_type IN ('statusCode', 'specificJsError')) = (rule_operator IS NOT NULL)", name=op.f('ck_website_alert_config_rule_operator_by_type')),
    sa.CheckConstraint("aggregation IN ('SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE')", name=op.f('ck_website_alert_config_aggregation')),
    sa.CheckConstraint("alert_type IN ('slowness', 'statusCode', 'throughput', 'specificJsError', 'customEvent')", name=op.f('ck_website_alert_config_alert_type')),
    sa.CheckConstraint("jsonb_typeof(custom_payload_fields) = 'array'", name=op.f('ck_website_alert_config_custom_payload_fields_array')),
    sa.CheckConstraint("jsonb_typeof(tag_filter_expression) = 'object' AND tag_filter_expression->>'type' IN ('EXPRESSION', 'TAG_FILTER')", name=op.f('ck_website_alert_config_tag_filter_expression_type')),
    sa.CheckConstraint("jsonb_typeof(time_threshold) = 'object' AND time_threshold->>'type' IN ('violationsInSequence', 'violationsInPeriod', 'userImpactOfViolationsInSequence')", name=op.f('ck_website_alert_config_time_threshold_type')),
    sa.CheckConstraint("threshold_operator IN ('>', '>=', '<', '<=')", name=op.f('ck_website_alert_config_threshold_operator')),
    sa.CheckConstraint("warning_value IS NULL OR CASE WHEN threshold_operator IN ('>', '>=') THEN warning_value < critical_value ELSE warning_value > critical_value END", name=op.f('ck_website_alert_config_warning_before_critical')),
    sa.CheckConstraint('critical_value >= 0 AND (warning_value IS NULL OR warning_value >= 0)', name=op.f('ck_website_alert_config_thresholds_non_negative')),
    sa.CheckConstraint('granularity_ms IN (60000, 300000, 600000, 900000, 1200000, 1800000)', name=op.f('ck_website_alert_config_granularity')),
    sa.CheckConstraint('initial_created_ms <= created_ms', name=op.f('ck_website_alert_config_created_after_initial')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 256', name=op.f('ck_website_alert_config_name_length')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_website_alert_config_severity')),
    sa.ForeignKeyConstraint(['metric_id'], ['website_metric_definition.metric_id'], name=op.f('fk_website_alert_config_metric_id_website_metric_definition')),
    sa.ForeignKeyConstraint(['website_id'], ['website.id'], name=op.f('fk_website_alert_config_website_id_website')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_website_alert_config'))
    )
    op.create_index(op.f('ix_website_alert_config_website_id'), 'website_alert_config', ['website_id'], unique=False)
    op.create_table('website_metric_point',
    sa.Column('website_id', sa.String(length=64), nullable=False),
    sa.Column('metric_id', sa.String(length=64), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('ts_ms', sa.BigInteger(), nullable=False),
    sa.Column('granularity_s', sa.Integer(), nullable=False),
    sa.Column('value', sa.Double(), nullable=False),
    sa.CheckConstraint("aggregation IN ('SUM', 'MEAN', 'MAX', 'MIN', 'P25', 'P50', 'P75', 'P90', 'P95', 'P98', 'P99', 'P99_9', 'P99_99', 'DISTINCT_COUNT', 'SUM_POSITIVE', 'PER_SECOND', 'INCREASE')", name=op.f('ck_website_metric_point_aggregation')),
    sa.CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name=op.f('ck_website_metric_point_value_non_negative')),
    sa.CheckConstraint('granularity_s > 0', name=op.f('ck_website_metric_point_granularity_positive')),
    sa.ForeignKeyConstraint(['metric_id'], ['website_metric_definition.metric_id'], name=op.f('fk_website_metric_point_metric_id_website_metric_definition')),
    sa.ForeignKeyConstraint(['website_id'], ['website.id'], name=op.f('fk_website_metric_point_website_id_website')),
    sa.PrimaryKeyConstraint('website_id', 'metric_id', 'aggregation', 'ts_ms', name=op.f('pk_website_metric_point'))
    )
    op.create_table('website_session',
    sa.Column('session_id', sa.String(length=16), nullable=False),
    sa.Column('website_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('browser_name', sa.Text(), nullable=False),
    sa.Column('browser_version', sa.Text(), nullable=False),
    sa.Column('os_name', sa.Text(), nullable=False),
    sa.Column('os_version', sa.Text(), nullable=False),
    sa.Column('device_type', sa.String(length=8), nullable=False),
    sa.Column('country_code', sa.String(length=2), nullable=False),
    sa.Column('country', sa.Text(), nullable=False),
    sa.Column('city', sa.Text(), nullable=False),
    sa.CheckConstraint("country_code ~ '^[A-Z]{2}$'", name=op.f('ck_website_session_country_code')),
    sa.CheckConstraint("device_type IN ('desktop', 'mobile', 'tablet')", name=op.f('ck_website_session_device_type')),
    sa.ForeignKeyConstraint(['website_id'], ['website.id'], name=op.f('fk_website_session_website_id_website')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_website_session')),
    sa.UniqueConstraint('session_id', 'website_id', name=op.f('uq_website_session_session_id_website_id'))
    )
    op.create_index(op.f('ix_website_session_website_id'), 'website_session', ['website_id'], unique=False)
    op.create_table('log_entry',
    sa.Column('log_id', sa.String(length=16), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('process_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('host_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('trace_id', sa.String(length=16), nullable=True),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.Column('stream_name', sa.String(length=8), nullable=False),
    sa.Column('exception_type', sa.Text(), nullable=True),
    sa.Column('exception_message', sa.Text(), nullable=True),
    sa.Column('kubernetes_cluster_name', sa.Text(), nullable=True),
    sa.Column('kubernetes_namespace_name', sa.Text(), nullable=True),
    sa.Column('kubernetes_deployment_name', sa.Text(), nullable=True),
    sa.Column('kubernetes_pod_name', sa.Text(), nullable=True),
    sa.Column('kubernetes_container_name', sa.Text(), nullable=True),
    sa.Column('kubernetes_node_name', sa.Text(), nullable=True),
    sa.CheckConstraint("(level IN ('ERROR', 'WARN')) = (event_id IS NOT NULL)", name=op.f('ck_log_entry_issue_iff_error_or_warn')),
    sa.CheckConstraint("exception_type IS NULL OR level = 'ERROR'", name=op.f('ck_log_entry_exception_only_on_error')),
    sa.CheckConstraint("level IN ('DEBUG', 'INFO', 'WARN', 'ERROR')", name=op.f('ck_log_entry_level')),
    sa.CheckConstraint("stream_name IN ('stdout', 'stderr')", name=op.f('ck_log_entry_stream_name')),
    sa.CheckConstraint("trace_id ~ '^[0-9a-f]{16}$'", name=op.f('ck_log_entry_trace_id_format')),
    sa.CheckConstraint('(exception_type IS NULL) = (exception_message IS NULL)', name=op.f('ck_log_entry_exception_complete')),
    sa.CheckConstraint('length(message) > 0', name=op.f('ck_log_entry_message_not_empty')),
    sa.ForeignKeyConstraint(['endpoint_id', 'service_id'], ['endpoint.id', 'endpoint.service_id'], name=op.f('fk_log_entry_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_log_entry_event_id_event')),
    sa.ForeignKeyConstraint(['host_snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_log_entry_host_snapshot_id_snapshot')),
    sa.ForeignKeyConstraint(['service_id', 'process_snapshot_id'], ['service_snapshot.service_id', 'service_snapshot.snapshot_id'], name=op.f('fk_log_entry_service_id_service_snapshot')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_log_entry_service_id_service')),
    sa.PrimaryKeyConstraint('log_id', name=op.f('pk_log_entry'))
    )
    op.create_index(op.f('ix_log_entry_endpoint_id'), 'log_entry', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_log_entry_event_id'), 'log_entry', ['event_id'], unique=False)
    op.create_index(op.f('ix_log_entry_host_snapshot_id'), 'log_entry', ['host_snapshot_id'], unique=False)
    op.create_index(op.f('ix_log_entry_service_id'), 'log_entry', ['service_id'], unique=False)
    op.create_index(op.f('ix_log_entry_timestamp_ms'), 'log_entry', ['timestamp_ms'], unique=False)
    op.create_index(op.f('ix_log_entry_trace_id'), 'log_entry', ['trace_id'], unique=False)
    op.create_table('mobile_app_alert_config_channel',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['alert_config_id'], ['mobile_app_alert_config.id'], name=op.f('fk_mobile_app_alert_config_channel_alert_config_id_mobile_app_alert_config')),
    sa.ForeignKeyConstraint(['channel_id'], ['alerting_channel.id'], name=op.f('fk_mobile_app_alert_config_channel_channel_id_alerting_channel')),
    sa.PrimaryKeyConstraint('alert_config_id', 'channel_id', name=op.f('pk_mobile_app_alert_config_channel'))
    )
    op.create_index(op.f('ix_mobile_app_alert_config_channel_channel_id'), 'mobile_app_alert_config_channel', ['channel_id'], unique=False)
    op.create_table('mobile_beacon',
    sa.Column('beacon_id', sa.String(length=16), nullable=False),
    sa.Column('mobile_app_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('view', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('http_call_method', sa.String(length=8), nullable=True),
    sa.Column('http_call_status', sa.SmallInteger(), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('error_type', sa.Text(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('stack_trace', sa.Text(), nullable=True),
    sa.CheckConstraint("(type = 'httpRequest') = (duration_ms IS NOT NULL) AND (duration_ms IS NULL OR duration_ms >= 0)", name=op.f('ck_mobile_beacon_duration_by_type')),
    sa.CheckConstraint("CASE WHEN type = 'crash' THEN num_nonnulls(error_type, error_message, stack_trace) = 3 ELSE num_nonnulls(error_type, error_message, stack_trace) = 0 END", name=op.f('ck_mobile_beacon_crash_by_type')),
    sa.CheckConstraint("CASE WHEN type = 'httpRequest' THEN num_nonnulls(url, http_call_method, http_call_status, endpoint_id) = 4 ELSE num_nonnulls(url, http_call_method, http_call_status, endpoint_id) = 0 END", name=op.f('ck_mobile_beacon_http_call_by_type')),
    sa.CheckConstraint("type IN ('sessionStart', 'httpRequest', 'crash')", name=op.f('ck_mobile_beacon_type')),
    sa.CheckConstraint('http_call_status IS NULL OR http_call_status BETWEEN 100 AND 599', name=op.f('ck_mobile_beacon_http_call_status')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoint.id'], name=op.f('fk_mobile_beacon_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['session_id', 'mobile_app_id'], ['mobile_session.session_id', 'mobile_session.mobile_app_id'], name=op.f('fk_mobile_beacon_session_id_mobile_session')),
    sa.PrimaryKeyConstraint('beacon_id', name=op.f('pk_mobile_beacon'))
    )
    op.create_index(op.f('ix_mobile_beacon_endpoint_id'), 'mobile_beacon', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_mobile_beacon_mobile_app_id'), 'mobile_beacon', ['mobile_app_id'], unique=False)
    op.create_index(op.f('ix_mobile_beacon_session_id'), 'mobile_beacon', ['session_id'], unique=False)
    op.create_index(op.f('ix_mobile_beacon_timestamp_ms'), 'mobile_beacon', ['timestamp_ms'], unique=False)
    op.create_table('synthetic_test_location',
    sa.Column('test_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['synthetic_location.id'], name=op.f('fk_synthetic_test_location_location_id_synthetic_location')),
    sa.ForeignKeyConstraint(['test_id'], ['synthetic_test.id'], name=op.f('fk_synthetic_test_location_test_id_synthetic_test')),
    sa.PrimaryKeyConstraint('test_id', 'location_id', name=op.f('pk_synthetic_test_location'))
    )
    op.create_index(op.f('ix_synthetic_test_location_location_id'), 'synthetic_test_location', ['location_id'], unique=False)
    op.create_table('website_alert_config_channel',
    sa.Column('alert_config_id', sa.String(length=64), nullable=False),
    sa.Column('channel_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['alert_config_id'], ['website_alert_config.id'], name=op.f('fk_website_alert_config_channel_alert_config_id_website_alert_config')),
    sa.ForeignKeyConstraint(['channel_id'], ['alerting_channel.id'], name=op.f('fk_website_alert_config_channel_channel_id_alerting_channel')),
    sa.PrimaryKeyConstraint('alert_config_id', 'channel_id', name=op.f('pk_website_alert_config_channel'))
    )
    op.create_index(op.f('ix_website_alert_config_channel_channel_id'), 'website_alert_config_channel', ['channel_id'], unique=False)
    op.create_table('website_beacon',
    sa.Column('beacon_id', sa.String(length=16), nullable=False),
    sa.Column('website_id', sa.String(length=64), nullable=False),
    sa.Column('session_id', sa.String(length=16), nullable=False),
    sa.Column('page_load_id', sa.String(length=16), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('page', sa.Text(), nullable=False),
    sa.Column('backend_time_ms', sa.Integer(), nullable=True),
    sa.Column('resource_type', sa.String(length=16), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('http_call_method', sa.String(length=8), nullable=True),
    sa.Column('http_call_status', sa.SmallInteger(), nullable=True),
    sa.Column('endpoint_id', sa.String(length=64), nullable=True),
    sa.Column('error_type', sa.Text(), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.CheckConstraint("(type <> 'error') = (url IS NOT NULL)", name=op.f('ck_website_beacon_url_by_type')),
    sa.CheckConstraint("(type = 'error') = (duration_ms IS NULL)", name=op.f('ck_website_beacon_duration_by_type')),
    sa.CheckConstraint("(type = 'error') = (error_type IS NOT NULL AND error_message IS NOT NULL) AND (type = 'error' OR num_nonnulls(error_type, error_message) = 0)", name=op.f('ck_website_beacon_error_by_type')),
    sa.CheckConstraint("(type = 'pageLoad') = (backend_time_ms IS NOT NULL) AND (backend_time_ms IS NULL OR backend_time_ms BETWEEN 0 AND duration_ms)", name=op.f('ck_website_beacon_backend_time_within_duration')),
    sa.CheckConstraint("(type = 'pageLoad') = (page_load_id = beacon_id)", name=op.f('ck_website_beacon_page_load_is_own')),
    sa.CheckConstraint("(type = 'resourceLoad') = (resource_type IS NOT NULL) AND (resource_type IS NULL OR resource_type IN ('script', 'css', 'img', 'font'))", name=op.f('ck_website_beacon_resource_type')),
    sa.CheckConstraint("CASE WHEN type = 'httpRequest' THEN num_nonnulls(http_call_method, http_call_status, endpoint_id) = 3 ELSE num_nonnulls(http_call_method, http_call_status, endpoint_id) = 0 END", name=op.f('ck_website_beacon_http_call_by_type')),
    sa.CheckConstraint("type IN ('pageLoad', 'resourceLoad', 'httpRequest', 'error')", name=op.f('ck_website_beacon_type')),
    sa.CheckConstraint('duration_ms IS NULL OR duration_ms >= 0', name=op.f('ck_website_beacon_duration_non_negative')),
    sa.CheckConstraint('http_call_status IS NULL OR http_call_status BETWEEN 100 AND 599', name=op.f('ck_website_beacon_http_call_status')),
    sa.ForeignKeyConstraint(['endpoint_id'], ['endpoint.id'], name=op.f('fk_website_beacon_endpoint_id_endpoint')),
    sa.ForeignKeyConstraint(['page_load_id', 'session_id'], ['website_beacon.beacon_id', 'website_beacon.session_id'], name=op.f('fk_website_beacon_page_load_id_website_beacon')),
    sa.ForeignKeyConstraint(['session_id', 'website_id'], ['website_session.session_id', 'website_session.website_id'], name=op.f('fk_website_beacon_session_id_website_session')),
    sa.PrimaryKeyConstraint('beacon_id', name=op.f('pk_website_beacon')),
    sa.UniqueConstraint('beacon_id', 'session_id', name=op.f('uq_website_beacon_beacon_id_session_id'))
    )
    op.create_index(op.f('ix_website_beacon_endpoint_id'), 'website_beacon', ['endpoint_id'], unique=False)
    op.create_index(op.f('ix_website_beacon_page_load_id'), 'website_beacon', ['page_load_id'], unique=False)
    op.create_index(op.f('ix_website_beacon_session_id'), 'website_beacon', ['session_id'], unique=False)
    op.create_index(op.f('ix_website_beacon_timestamp_ms'), 'website_beacon', ['timestamp_ms'], unique=False)
    op.create_index(op.f('ix_website_beacon_website_id'), 'website_beacon', ['website_id'], unique=False)
    op.create_table('synthetic_result',
    sa.Column('result_id', sa.String(length=64), nullable=False),
    sa.Column('test_id', sa.String(length=64), nullable=False),
    sa.Column('location_id', sa.String(length=64), nullable=False),
    sa.Column('start_ms', sa.BigInteger(), nullable=False),
    sa.Column('run_type', sa.String(length=16), nullable=False),
    sa.Column('status', sa.SmallInteger(), nullable=False),
    sa.Column('response_time_ms', sa.Integer(), nullable=False),
    sa.Column('response_size_bytes', sa.Integer(), nullable=False),
    sa.Column('http_status', sa.SmallInteger(), nullable=True),
    sa.Column('errors', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("run_type IN ('Scheduled', 'OnDemand')", name=op.f('ck_synthetic_result_run_type')),
    sa.CheckConstraint('(status = 1) = (cardinality(errors) = 0)', name=op.f('ck_synthetic_result_errors_iff_failed')),
    sa.CheckConstraint('event_id IS NULL OR status = 0', name=op.f('ck_synthetic_result_explanation_only_for_failures')),
    sa.CheckConstraint('http_status IS NULL OR http_status BETWEEN 100 AND 599', name=op.f('ck_synthetic_result_http_status')),
    sa.CheckConstraint('response_size_bytes >= 0', name=op.f('ck_synthetic_result_response_size_non_negative')),
    sa.CheckConstraint('response_time_ms >= 0', name=op.f('ck_synthetic_result_response_time_non_negative')),
    sa.CheckConstraint('status IN (0, 1)', name=op.f('ck_synthetic_result_status')),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_synthetic_result_event_id_event')),
    sa.ForeignKeyConstraint(['test_id', 'location_id'], ['synthetic_test_location.test_id', 'synthetic_test_location.location_id'], name=op.f('fk_synthetic_result_test_id_synthetic_test_location')),
    sa.PrimaryKeyConstraint('result_id', name=op.f('pk_synthetic_result'))
    )
    op.create_index(op.f('ix_synthetic_result_event_id'), 'synthetic_result', ['event_id'], unique=False)
    op.create_index(op.f('ix_synthetic_result_start_ms'), 'synthetic_result', ['start_ms'], unique=False)
    op.create_index(op.f('ix_synthetic_result_test_id'), 'synthetic_result', ['test_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_synthetic_result_test_id'), table_name='synthetic_result')
    op.drop_index(op.f('ix_synthetic_result_start_ms'), table_name='synthetic_result')
    op.drop_index(op.f('ix_synthetic_result_event_id'), table_name='synthetic_result')
    op.drop_table('synthetic_result')
    op.drop_index(op.f('ix_website_beacon_website_id'), table_name='website_beacon')
    op.drop_index(op.f('ix_website_beacon_timestamp_ms'), table_name='website_beacon')
    op.drop_index(op.f('ix_website_beacon_session_id'), table_name='website_beacon')
    op.drop_index(op.f('ix_website_beacon_page_load_id'), table_name='website_beacon')
    op.drop_index(op.f('ix_website_beacon_endpoint_id'), table_name='website_beacon')
    op.drop_table('website_beacon')
    op.drop_index(op.f('ix_website_alert_config_channel_channel_id'), table_name='website_alert_config_channel')
    op.drop_table('website_alert_config_channel')
    op.drop_index(op.f('ix_synthetic_test_location_location_id'), table_name='synthetic_test_location')
    op.drop_table('synthetic_test_location')
    op.drop_index(op.f('ix_mobile_beacon_timestamp_ms'), table_name='mobile_beacon')
    op.drop_index(op.f('ix_mobile_beacon_session_id'), table_name='mobile_beacon')
    op.drop_index(op.f('ix_mobile_beacon_mobile_app_id'), table_name='mobile_beacon')
    op.drop_index(op.f('ix_mobile_beacon_endpoint_id'), table_name='mobile_beacon')
    op.drop_table('mobile_beacon')
    op.drop_index(op.f('ix_mobile_app_alert_config_channel_channel_id'), table_name='mobile_app_alert_config_channel')
    op.drop_table('mobile_app_alert_config_channel')
    op.drop_index(op.f('ix_log_entry_trace_id'), table_name='log_entry')
    op.drop_index(op.f('ix_log_entry_timestamp_ms'), table_name='log_entry')
    op.drop_index(op.f('ix_log_entry_service_id'), table_name='log_entry')
    op.drop_index(op.f('ix_log_entry_host_snapshot_id'), table_name='log_entry')
    op.drop_index(op.f('ix_log_entry_event_id'), table_name='log_entry')
    op.drop_index(op.f('ix_log_entry_endpoint_id'), table_name='log_entry')
    op.drop_table('log_entry')
    op.drop_index(op.f('ix_website_session_website_id'), table_name='website_session')
    op.drop_table('website_session')
    op.drop_table('website_metric_point')
    op.drop_index(op.f('ix_website_alert_config_website_id'), table_name='website_alert_config')
    op.drop_table('website_alert_config')
    op.drop_index(op.f('ix_synthetic_test_website_id'), table_name='synthetic_test')
    op.drop_index(op.f('ix_synthetic_test_service_id'), table_name='synthetic_test')
    op.drop_index(op.f('ix_synthetic_test_endpoint_id'), table_name='synthetic_test')
    op.drop_index(op.f('ix_synthetic_test_application_id'), table_name='synthetic_test')
    op.drop_table('synthetic_test')
    op.drop_index(op.f('ix_mobile_session_mobile_app_id'), table_name='mobile_session')
    op.drop_table('mobile_session')
    op.drop_table('mobile_metric_point')
    op.drop_index(op.f('ix_mobile_app_alert_config_mobile_app_id'), table_name='mobile_app_alert_config')
    op.drop_table('mobile_app_alert_config')
    op.drop_index(op.f('ix_website_application_id'), table_name='website')
    op.drop_table('website')
    op.drop_index(op.f('ix_mobile_app_application_id'), table_name='mobile_app')
    op.drop_table('mobile_app')
    op.drop_table('website_metric_definition')
    op.drop_table('synthetic_location')
    op.drop_table('mobile_metric_definition')
