"""dataset 1.4.0: access (users, roles, groups, teams, API tokens, audit and access logs) and settings (host
agents, event specifications, application/service/endpoint configs, custom dashboards)

Revision ID: 1.4.0
Revises: 1.3.0
Create Date: 2026-11-27 09:15:00

Only new tables: the rows of older versions stay exactly as they were (events are linked to their
specification through event_specification_event).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '1.4.0'
down_revision: str | None = '1.3.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event_specification',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('entity_type', sa.String(length=64), nullable=False),
    sa.Column('short_plugin_id', sa.String(length=64), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('severity', sa.SmallInteger(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('triggering', sa.Boolean(), nullable=False),
    sa.Column('hyper_params', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rule_inputs', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rules', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('rule_logical_operator', sa.String(length=8), nullable=True),
    sa.Column('last_updated_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("CASE kind WHEN 'BUILT_IN' THEN short_plugin_id IS NOT NULL AND jsonb_array_length(rules) = 0 WHEN 'CUSTOM' THEN short_plugin_id IS NULL AND jsonb_array_length(hyper_params) = 0 AND jsonb_array_length(rule_inputs) = 0 AND jsonb_array_length(rules) BETWEEN 1 AND 5 END", name=op.f('ck_event_specification_fields_by_kind')),
    sa.CheckConstraint("jsonb_typeof(hyper_params) = 'array' AND jsonb_typeof(rule_inputs) = 'array' AND jsonb_typeof(rules) = 'array'", name=op.f('ck_event_specification_json_arrays')),
    sa.CheckConstraint("kind IN ('BUILT_IN', 'CUSTOM')", name=op.f('ck_event_specification_kind')),
    sa.CheckConstraint("rule_logical_operator IS NULL OR rule_logical_operator IN ('AND', 'OR')", name=op.f('ck_event_specification_rule_logical_operator')),
    sa.CheckConstraint('last_updated_ms >= 1', name=op.f('ck_event_specification_last_updated_positive')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_event_specification_name_not_empty')),
    sa.CheckConstraint('severity IN (5, 10)', name=op.f('ck_event_specification_severity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_specification')),
    sa.UniqueConstraint('kind', 'entity_type', 'name', name=op.f('uq_event_specification_kind_entity_type_name'))
    )
    op.create_table('role',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('permissions', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.CheckConstraint("permissions <@ ARRAY['CAN_CONFIGURE_APPLICATIONS', 'CAN_CONFIGURE_EUM_APPLICATIONS', 'CAN_CONFIGURE_AGENTS', 'CAN_INSTALL_NEW_AGENTS', 'CAN_CONFIGURE_AGENT_RUN_MODE', 'CAN_VIEW_TRACE_DETAILS', 'CAN_VIEW_LOGS', 'CAN_CONFIGURE_SESSION_SETTINGS', 'CAN_CONFIGURE_INTEGRATIONS', 'CAN_CONFIGURE_EVENTS_AND_ALERTS', 'CAN_CONFIGURE_MAINTENANCE_WINDOWS', 'CAN_CONFIGURE_APPLICATION_SMART_ALERTS', 'CAN_CONFIGURE_WEBSITE_SMART_ALERTS', 'CAN_CONFIGURE_GLOBAL_ALERT_PAYLOAD', 'CAN_CONFIGURE_USERS', 'CAN_CONFIGURE_TEAMS', 'CAN_CONFIGURE_API_TOKENS', 'CAN_CONFIGURE_PERSONAL_API_TOKENS', 'CAN_CONFIGURE_AUTHENTICATION_METHODS', 'CAN_VIEW_AUDIT_LOG', 'CAN_CONFIGURE_RELEASES', 'CAN_CONFIGURE_SERVICE_MAPPING', 'CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS', 'CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS', 'CAN_CONFIGURE_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TEST_RESULTS', 'CAN_CONFIGURE_LOG_MANAGEMENT', 'CAN_VIEW_LOG_VOLUME', 'CAN_MANUALLY_CLOSE_ISSUE', 'CAN_CREATE_THREAD_DUMP', 'CAN_CREATE_HEAP_DUMP', 'CAN_VIEW_ACCOUNT_AND_BILLING_INFORMATION']::varchar[]", name=op.f('ck_role_permissions_enum')),
    sa.CheckConstraint('cardinality(permissions) > 0', name=op.f('ck_role_permissions_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role')),
    sa.UniqueConstraint('name', name=op.f('uq_role_name'))
    )
    op.create_table('team',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('access_permissions', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.CheckConstraint("access_permissions <@ ARRAY['LIMITED_APPLICATIONS_SCOPE', 'LIMITED_WEBSITES_SCOPE', 'LIMITED_INFRASTRUCTURE_SCOPE', 'LIMITED_LOGS_SCOPE']::varchar[]", name=op.f('ck_team_access_permissions_enum')),
    sa.CheckConstraint('length(tag) > 0', name=op.f('ck_team_tag_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('tag', name=op.f('uq_team_tag'))
    )
    op.create_table('user_account',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('full_name', sa.Text(), nullable=False),
    sa.Column('tfa_enabled', sa.Boolean(), nullable=False),
    sa.Column('last_logged_in_ms', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("email ~ '^[^@ ]+@[^@ ]+\\.[a-z]+$'", name=op.f('ck_user_account_email_format')),
    sa.CheckConstraint('length(full_name) > 0', name=op.f('ck_user_account_full_name_not_empty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('email', name=op.f('uq_user_account_email'))
    )
    op.create_table('user_group',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('permissions', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.CheckConstraint("permissions <@ ARRAY['CAN_CONFIGURE_APPLICATIONS', 'CAN_CONFIGURE_EUM_APPLICATIONS', 'CAN_CONFIGURE_AGENTS', 'CAN_INSTALL_NEW_AGENTS', 'CAN_CONFIGURE_AGENT_RUN_MODE', 'CAN_VIEW_TRACE_DETAILS', 'CAN_VIEW_LOGS', 'CAN_CONFIGURE_SESSION_SETTINGS', 'CAN_CONFIGURE_INTEGRATIONS', 'CAN_CONFIGURE_EVENTS_AND_ALERTS', 'CAN_CONFIGURE_MAINTENANCE_WINDOWS', 'CAN_CONFIGURE_APPLICATION_SMART_ALERTS', 'CAN_CONFIGURE_WEBSITE_SMART_ALERTS', 'CAN_CONFIGURE_GLOBAL_ALERT_PAYLOAD', 'CAN_CONFIGURE_USERS', 'CAN_CONFIGURE_TEAMS', 'CAN_CONFIGURE_API_TOKENS', 'CAN_CONFIGURE_PERSONAL_API_TOKENS', 'CAN_CONFIGURE_AUTHENTICATION_METHODS', 'CAN_VIEW_AUDIT_LOG', 'CAN_CONFIGURE_RELEASES', 'CAN_CONFIGURE_SERVICE_MAPPING', 'CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS', 'CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS', 'CAN_CONFIGURE_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TEST_RESULTS', 'CAN_CONFIGURE_LOG_MANAGEMENT', 'CAN_VIEW_LOG_VOLUME', 'CAN_MANUALLY_CLOSE_ISSUE', 'CAN_CREATE_THREAD_DUMP', 'CAN_CREATE_HEAP_DUMP', 'CAN_VIEW_ACCOUNT_AND_BILLING_INFORMATION']::varchar[]", name=op.f('ck_user_group_permissions_enum')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_group')),
    sa.UniqueConstraint('name', name=op.f('uq_user_group_name'))
    )
    op.create_table('api_token',
    sa.Column('internal_id', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('access_granting_token', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_on_ms', sa.BigInteger(), nullable=False),
    sa.Column('expires_on_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_used_on_ms', sa.BigInteger(), nullable=True),
    sa.Column('permissions', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.CheckConstraint("permissions <@ ARRAY['CAN_CONFIGURE_APPLICATIONS', 'CAN_CONFIGURE_EUM_APPLICATIONS', 'CAN_CONFIGURE_AGENTS', 'CAN_INSTALL_NEW_AGENTS', 'CAN_CONFIGURE_AGENT_RUN_MODE', 'CAN_VIEW_TRACE_DETAILS', 'CAN_VIEW_LOGS', 'CAN_CONFIGURE_SESSION_SETTINGS', 'CAN_CONFIGURE_INTEGRATIONS', 'CAN_CONFIGURE_EVENTS_AND_ALERTS', 'CAN_CONFIGURE_MAINTENANCE_WINDOWS', 'CAN_CONFIGURE_APPLICATION_SMART_ALERTS', 'CAN_CONFIGURE_WEBSITE_SMART_ALERTS', 'CAN_CONFIGURE_GLOBAL_ALERT_PAYLOAD', 'CAN_CONFIGURE_USERS', 'CAN_CONFIGURE_TEAMS', 'CAN_CONFIGURE_API_TOKENS', 'CAN_CONFIGURE_PERSONAL_API_TOKENS', 'CAN_CONFIGURE_AUTHENTICATION_METHODS', 'CAN_VIEW_AUDIT_LOG', 'CAN_CONFIGURE_RELEASES', 'CAN_CONFIGURE_SERVICE_MAPPING', 'CAN_CREATE_PUBLIC_CUSTOM_DASHBOARDS', 'CAN_EDIT_ALL_ACCESSIBLE_CUSTOM_DASHBOARDS', 'CAN_CONFIGURE_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TESTS', 'CAN_VIEW_SYNTHETIC_TEST_RESULTS', 'CAN_CONFIGURE_LOG_MANAGEMENT', 'CAN_VIEW_LOG_VOLUME', 'CAN_MANUALLY_CLOSE_ISSUE', 'CAN_CREATE_THREAD_DUMP', 'CAN_CREATE_HEAP_DUMP', 'CAN_VIEW_ACCOUNT_AND_BILLING_INFORMATION', 'LIMITED_APPLICATIONS_SCOPE', 'LIMITED_WEBSITES_SCOPE', 'LIMITED_INFRASTRUCTURE_SCOPE', 'LIMITED_LOGS_SCOPE']::varchar[]", name=op.f('ck_api_token_permissions_enum')),
    sa.CheckConstraint('expires_on_ms IS NULL OR expires_on_ms > created_on_ms', name=op.f('ck_api_token_expires_after_created')),
    sa.CheckConstraint('last_used_on_ms IS NULL OR (last_used_on_ms >= created_on_ms AND (expires_on_ms IS NULL OR last_used_on_ms <= expires_on_ms))', name=op.f('ck_api_token_used_while_valid')),
    sa.CheckConstraint('length(name) > 0', name=op.f('ck_api_token_name_not_empty')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_api_token_created_by_user_account')),
    sa.PrimaryKeyConstraint('internal_id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('access_granting_token', name=op.f('uq_api_token_access_granting_token')),
    sa.UniqueConstraint('id', name=op.f('uq_api_token_id'))
    )
    op.create_index(op.f('ix_api_token_created_by'), 'api_token', ['created_by'], unique=False)
    op.create_table('application_config',
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('tag_filter_expression', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('modified_ms', sa.BigInteger(), nullable=False),
    sa.Column('modified_by', sa.String(length=64), nullable=False),
    sa.CheckConstraint("jsonb_typeof(tag_filter_expression) = 'object'", name=op.f('ck_application_config_tag_filter_object')),
    sa.CheckConstraint("scope IN ('INCLUDE_NO_DOWNSTREAM', 'INCLUDE_IMMEDIATE_DOWNSTREAM_DATABASE_AND_MESSAGING', 'INCLUDE_ALL_DOWNSTREAM')", name=op.f('ck_application_config_scope')),
    sa.CheckConstraint('modified_ms >= created_ms', name=op.f('ck_application_config_modified_after_created')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_application_config_application_id_application')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_application_config_created_by_user_account')),
    sa.ForeignKeyConstraint(['modified_by'], ['user_account.id'], name=op.f('fk_application_config_modified_by_user_account')),
    sa.PrimaryKeyConstraint('application_id', name=op.f('pk_application_config'))
    )
    op.create_index(op.f('ix_application_config_created_by'), 'application_config', ['created_by'], unique=False)
    op.create_index(op.f('ix_application_config_modified_by'), 'application_config', ['modified_by'], unique=False)
    op.create_table('custom_dashboard',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('writable', sa.Boolean(), nullable=False),
    sa.Column('created_ms', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('length(title) > 0', name=op.f('ck_custom_dashboard_title_not_empty')),
    sa.CheckConstraint('shared OR NOT writable', name=op.f('ck_custom_dashboard_writable_only_if_shared')),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_custom_dashboard_application_id_application')),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_custom_dashboard_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custom_dashboard')),
    sa.UniqueConstraint('owner_id', 'title', name=op.f('uq_custom_dashboard_owner_id_title'))
    )
    op.create_index(op.f('ix_custom_dashboard_application_id'), 'custom_dashboard', ['application_id'], unique=False)
    op.create_index(op.f('ix_custom_dashboard_owner_id'), 'custom_dashboard', ['owner_id'], unique=False)
    op.create_table('endpoint_config',
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('endpoint_case', sa.String(length=16), nullable=False),
    sa.Column('by_path_template', sa.Boolean(), nullable=False),
    sa.Column('by_first_path_segment', sa.Boolean(), nullable=False),
    sa.Column('rules', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("endpoint_case IN ('ORIGINAL', 'LOWER', 'UPPER')", name=op.f('ck_endpoint_config_endpoint_case')),
    sa.CheckConstraint("jsonb_typeof(rules) = 'array' AND jsonb_array_length(rules) <= 500", name=op.f('ck_endpoint_config_rules')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_endpoint_config_service_id_service')),
    sa.PrimaryKeyConstraint('service_id', name=op.f('pk_endpoint_config'))
    )
    op.create_table('host_agent',
    sa.Column('snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('agent_snapshot_id', sa.String(length=64), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('auto_update', sa.Boolean(), nullable=False),
    sa.Column('from_ms', sa.BigInteger(), nullable=False),
    sa.Column('to_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_seen_ms', sa.BigInteger(), nullable=False),
    sa.Column('cpu_usage_percent', sa.Double(), nullable=False),
    sa.Column('memory_usage_mb', sa.Double(), nullable=False),
    sa.Column('plugins', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.CheckConstraint("(status = 'OFFLINE') = (to_ms IS NOT NULL)", name=op.f('ck_host_agent_offline_iff_ended')),
    sa.CheckConstraint("mode IN ('APM', 'INFRASTRUCTURE', 'AWS', 'KUBERNETES')", name=op.f('ck_host_agent_mode')),
    sa.CheckConstraint("status IN ('ONLINE', 'OFFLINE')", name=op.f('ck_host_agent_status')),
    sa.CheckConstraint("version ~ '^[0-9]+\\.[0-9]+\\.[0-9]+$'", name=op.f('ck_host_agent_version_format')),
    sa.CheckConstraint('cardinality(plugins) > 0', name=op.f('ck_host_agent_plugins_not_empty')),
    sa.CheckConstraint('cpu_usage_percent BETWEEN 0 AND 100', name=op.f('ck_host_agent_cpu_percent')),
    sa.CheckConstraint('last_seen_ms >= from_ms AND (to_ms IS NULL OR last_seen_ms <= to_ms)', name=op.f('ck_host_agent_seen_while_up')),
    sa.CheckConstraint('memory_usage_mb > 0', name=op.f('ck_host_agent_memory_positive')),
    sa.CheckConstraint('to_ms IS NULL OR to_ms >= from_ms', name=op.f('ck_host_agent_to_after_from')),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.snapshot_id'], name=op.f('fk_host_agent_snapshot_id_snapshot')),
    sa.PrimaryKeyConstraint('snapshot_id', name=op.f('pk_host_agent')),
    sa.UniqueConstraint('agent_id', name=op.f('uq_host_agent_agent_id')),
    sa.UniqueConstraint('agent_snapshot_id', name=op.f('uq_host_agent_agent_snapshot_id'))
    )
    op.create_table('role_member',
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_role_member_role_id_role')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_role_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('role_id', 'user_id', name=op.f('pk_role_member'))
    )
    op.create_index(op.f('ix_role_member_user_id'), 'role_member', ['user_id'], unique=False)
    op.create_table('service_config',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('match_specification', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("jsonb_typeof(match_specification) = 'array' AND jsonb_array_length(match_specification) BETWEEN 1 AND 20", name=op.f('ck_service_config_match_specification')),
    sa.CheckConstraint('length(name) BETWEEN 1 AND 128', name=op.f('ck_service_config_name_length')),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_service_config_service_id_service')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_config')),
    sa.UniqueConstraint('name', name=op.f('uq_service_config_name')),
    sa.UniqueConstraint('service_id', name=op.f('uq_service_config_service_id'))
    )
    op.create_table('team_application',
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_team_application_application_id_application')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_application_team_id_team')),
    sa.PrimaryKeyConstraint('team_id', 'application_id', name=op.f('pk_team_application'))
    )
    op.create_index(op.f('ix_team_application_application_id'), 'team_application', ['application_id'], unique=False)
    op.create_table('team_member',
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_member_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_team_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('team_id', 'user_id', name=op.f('pk_team_member'))
    )
    op.create_index(op.f('ix_team_member_user_id'), 'team_member', ['user_id'], unique=False)
    op.create_table('user_group_application',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_user_group_application_application_id_application')),
    sa.ForeignKeyConstraint(['group_id'], ['user_group.id'], name=op.f('fk_user_group_application_group_id_user_group')),
    sa.PrimaryKeyConstraint('group_id', 'application_id', name=op.f('pk_user_group_application'))
    )
    op.create_index(op.f('ix_user_group_application_application_id'), 'user_group_application', ['application_id'], unique=False)
    op.create_table('user_group_member',
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['user_group.id'], name=op.f('fk_user_group_member_group_id_user_group')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_group_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('group_id', 'user_id', name=op.f('pk_user_group_member'))
    )
    op.create_index(op.f('ix_user_group_member_user_id'), 'user_group_member', ['user_id'], unique=False)
    op.create_table('access_log_entry',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_user_id', sa.String(length=64), nullable=True),
    sa.Column('actor_token_id', sa.String(length=64), nullable=True),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("(action = 'API_TOKEN_USED') = (actor_type = 'API_TOKEN')", name=op.f('ck_access_log_entry_token_use_by_token')),
    sa.CheckConstraint("CASE actor_type WHEN 'USER' THEN actor_user_id IS NOT NULL AND actor_token_id IS NULL WHEN 'API_TOKEN' THEN actor_token_id IS NOT NULL AND actor_user_id IS NULL END", name=op.f('ck_access_log_entry_actor_matches_type')),
    sa.CheckConstraint("action IN ('LOGIN_SUCCEEDED', 'LOGIN_FAILED', 'LOGOUT', 'API_TOKEN_USED')", name=op.f('ck_access_log_entry_action')),
    sa.CheckConstraint("actor_type IN ('USER', 'API_TOKEN')", name=op.f('ck_access_log_entry_actor_type')),
    sa.CheckConstraint("jsonb_typeof(meta) = 'object'", name=op.f('ck_access_log_entry_meta_object')),
    sa.CheckConstraint('length(message) > 0', name=op.f('ck_access_log_entry_message_not_empty')),
    sa.ForeignKeyConstraint(['actor_token_id'], ['api_token.internal_id'], name=op.f('fk_access_log_entry_actor_token_id_api_token')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_access_log_entry_actor_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_entry'))
    )
    op.create_index(op.f('ix_access_log_entry_actor_token_id'), 'access_log_entry', ['actor_token_id'], unique=False)
    op.create_index(op.f('ix_access_log_entry_actor_user_id'), 'access_log_entry', ['actor_user_id'], unique=False)
    op.create_index(op.f('ix_access_log_entry_timestamp_ms'), 'access_log_entry', ['timestamp_ms'], unique=False)
    op.create_table('application_access_rule',
    sa.Column('application_id', sa.String(length=64), nullable=False),
    sa.Column('ord', sa.SmallInteger(), nullable=False),
    sa.Column('access_type', sa.String(length=16), nullable=False),
    sa.Column('relation_type', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('api_token_id', sa.String(length=64), nullable=True),
    sa.Column('role_id', sa.String(length=64), nullable=True),
    sa.Column('team_id', sa.String(length=64), nullable=True),
    sa.CheckConstraint("CASE relation_type WHEN 'USER' THEN user_id IS NOT NULL AND num_nonnulls(api_token_id, role_id, team_id) = 0 WHEN 'API_TOKEN' THEN api_token_id IS NOT NULL AND num_nonnulls(user_id, role_id, team_id) = 0 WHEN 'ROLE' THEN role_id IS NOT NULL AND num_nonnulls(user_id, api_token_id, team_id) = 0 WHEN 'TEAM' THEN team_id IS NOT NULL AND num_nonnulls(user_id, api_token_id, role_id) = 0 WHEN 'GLOBAL' THEN num_nonnulls(user_id, api_token_id, role_id, team_id) = 0 END", name=op.f('ck_application_access_rule_related_matches_type')),
    sa.CheckConstraint("access_type IN ('READ', 'READ_WRITE')", name=op.f('ck_application_access_rule_access_type')),
    sa.CheckConstraint("relation_type IN ('USER', 'API_TOKEN', 'ROLE', 'TEAM', 'GLOBAL')", name=op.f('ck_application_access_rule_relation_type')),
    sa.CheckConstraint('ord BETWEEN 0 AND 63', name=op.f('ck_application_access_rule_ord_range')),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_token.internal_id'], name=op.f('fk_application_access_rule_api_token_id_api_token')),
    sa.ForeignKeyConstraint(['application_id'], ['application_config.application_id'], name=op.f('fk_application_access_rule_application_id_application_config')),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_application_access_rule_role_id_role')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_application_access_rule_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_application_access_rule_user_id_user_account')),
    sa.PrimaryKeyConstraint('application_id', 'ord', name=op.f('pk_application_access_rule'))
    )
    op.create_index(op.f('ix_application_access_rule_api_token_id'), 'application_access_rule', ['api_token_id'], unique=False)
    op.create_index(op.f('ix_application_access_rule_role_id'), 'application_access_rule', ['role_id'], unique=False)
    op.create_index(op.f('ix_application_access_rule_team_id'), 'application_access_rule', ['team_id'], unique=False)
    op.create_index(op.f('ix_application_access_rule_user_id'), 'application_access_rule', ['user_id'], unique=False)
    op.create_table('audit_log_entry',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('timestamp_ms', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('actor_type', sa.String(length=16), nullable=False),
    sa.Column('actor_user_id', sa.String(length=64), nullable=True),
    sa.Column('actor_token_id', sa.String(length=64), nullable=True),
    sa.Column('application_id', sa.String(length=64), nullable=True),
    sa.Column('api_token_id', sa.String(length=64), nullable=True),
    sa.Column('custom_dashboard_id', sa.String(length=64), nullable=True),
    sa.Column('event_specification_id', sa.String(length=64), nullable=True),
    sa.Column('service_config_id', sa.String(length=64), nullable=True),
    sa.Column('endpoint_config_service_id', sa.String(length=64), nullable=True),
    sa.Column('meta', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("CASE action WHEN 'APPLICATION_CONFIG_UPDATED' THEN application_id IS NOT NULL WHEN 'API_TOKEN_CREATED' THEN api_token_id IS NOT NULL WHEN 'CUSTOM_DASHBOARD_CREATED' THEN custom_dashboard_id IS NOT NULL WHEN 'CUSTOM_DASHBOARD_UPDATED' THEN custom_dashboard_id IS NOT NULL WHEN 'EVENT_SPECIFICATION_UPDATED' THEN event_specification_id IS NOT NULL WHEN 'SERVICE_CONFIG_UPDATED' THEN service_config_id IS NOT NULL WHEN 'ENDPOINT_CONFIG_UPDATED' THEN endpoint_config_service_id IS NOT NULL END", name=op.f('ck_audit_log_entry_target_matches_action')),
    sa.CheckConstraint("CASE actor_type WHEN 'USER' THEN actor_user_id IS NOT NULL AND actor_token_id IS NULL WHEN 'API_TOKEN' THEN actor_token_id IS NOT NULL AND actor_user_id IS NULL END", name=op.f('ck_audit_log_entry_actor_matches_type')),
    sa.CheckConstraint("action IN ('APPLICATION_CONFIG_UPDATED', 'API_TOKEN_CREATED', 'CUSTOM_DASHBOARD_CREATED', 'CUSTOM_DASHBOARD_UPDATED', 'EVENT_SPECIFICATION_UPDATED', 'SERVICE_CONFIG_UPDATED', 'ENDPOINT_CONFIG_UPDATED')", name=op.f('ck_audit_log_entry_action')),
    sa.CheckConstraint("actor_type IN ('USER', 'API_TOKEN')", name=op.f('ck_audit_log_entry_actor_type')),
    sa.CheckConstraint("jsonb_typeof(meta) = 'object'", name=op.f('ck_audit_log_entry_meta_object')),
    sa.CheckConstraint('length(message) > 0', name=op.f('ck_audit_log_entry_message_not_empty')),
    sa.CheckConstraint('num_nonnulls(application_id, api_token_id, custom_dashboard_id, event_specification_id, service_config_id, endpoint_config_service_id) = 1', name=op.f('ck_audit_log_entry_one_target')),
    sa.ForeignKeyConstraint(['actor_token_id'], ['api_token.internal_id'], name=op.f('fk_audit_log_entry_actor_token_id_api_token')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['user_account.id'], name=op.f('fk_audit_log_entry_actor_user_id_user_account')),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_token.internal_id'], name=op.f('fk_audit_log_entry_api_token_id_api_token')),
    sa.ForeignKeyConstraint(['application_id'], ['application_config.application_id'], name=op.f('fk_audit_log_entry_application_id_application_config')),
    sa.ForeignKeyConstraint(['custom_dashboard_id'], ['custom_dashboard.id'], name=op.f('fk_audit_log_entry_custom_dashboard_id_custom_dashboard')),
    sa.ForeignKeyConstraint(['endpoint_config_service_id'], ['endpoint_config.service_id'], name=op.f('fk_audit_log_entry_endpoint_config_service_id_endpoint_config')),
    sa.ForeignKeyConstraint(['event_specification_id'], ['event_specification.id'], name=op.f('fk_audit_log_entry_event_specification_id_event_specification')),
    sa.ForeignKeyConstraint(['service_config_id'], ['service_config.id'], name=op.f('fk_audit_log_entry_service_config_id_service_config')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log_entry'))
    )
    op.create_index(op.f('ix_audit_log_entry_actor_token_id'), 'audit_log_entry', ['actor_token_id'], unique=False)
    op.create_index(op.f('ix_audit_log_entry_actor_user_id'), 'audit_log_entry', ['actor_user_id'], unique=False)
    op.create_index(op.f('ix_audit_log_entry_timestamp_ms'), 'audit_log_entry', ['timestamp_ms'], unique=False)
    op.create_table('team_member_role',
    sa.Column('team_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('via_idp', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['role_id'], ['role.id'], name=op.f('fk_team_member_role_role_id_role')),
    sa.ForeignKeyConstraint(['team_id', 'user_id'], ['team_member.team_id', 'team_member.user_id'], name=op.f('fk_team_member_role_team_id_team_member')),
    sa.PrimaryKeyConstraint('team_id', 'user_id', 'role_id', name=op.f('pk_team_member_role'))
    )
    op.create_index(op.f('ix_team_member_role_role_id'), 'team_member_role', ['role_id'], unique=False)
    op.create_table('event_specification_event',
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('event_specification_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['event.event_id'], name=op.f('fk_event_specification_event_event_id_event')),
    sa.ForeignKeyConstraint(['event_specification_id'], ['event_specification.id'], name='fk_event_specification_event_specification'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_event_specification_event'))
    )
    op.create_index(op.f('ix_event_specification_event_event_specification_id'), 'event_specification_event', ['event_specification_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_event_specification_event_event_specification_id'), table_name='event_specification_event')
    op.drop_table('event_specification_event')
    op.drop_index(op.f('ix_team_member_role_role_id'), table_name='team_member_role')
    op.drop_table('team_member_role')
    op.drop_index(op.f('ix_audit_log_entry_timestamp_ms'), table_name='audit_log_entry')
    op.drop_index(op.f('ix_audit_log_entry_actor_user_id'), table_name='audit_log_entry')
    op.drop_index(op.f('ix_audit_log_entry_actor_token_id'), table_name='audit_log_entry')
    op.drop_table('audit_log_entry')
    op.drop_index(op.f('ix_application_access_rule_user_id'), table_name='application_access_rule')
    op.drop_index(op.f('ix_application_access_rule_team_id'), table_name='application_access_rule')
    op.drop_index(op.f('ix_application_access_rule_role_id'), table_name='application_access_rule')
    op.drop_index(op.f('ix_application_access_rule_api_token_id'), table_name='application_access_rule')
    op.drop_table('application_access_rule')
    op.drop_index(op.f('ix_access_log_entry_timestamp_ms'), table_name='access_log_entry')
    op.drop_index(op.f('ix_access_log_entry_actor_user_id'), table_name='access_log_entry')
    op.drop_index(op.f('ix_access_log_entry_actor_token_id'), table_name='access_log_entry')
    op.drop_table('access_log_entry')
    op.drop_index(op.f('ix_user_group_member_user_id'), table_name='user_group_member')
    op.drop_table('user_group_member')
    op.drop_index(op.f('ix_user_group_application_application_id'), table_name='user_group_application')
    op.drop_table('user_group_application')
    op.drop_index(op.f('ix_team_member_user_id'), table_name='team_member')
    op.drop_table('team_member')
    op.drop_index(op.f('ix_team_application_application_id'), table_name='team_application')
    op.drop_table('team_application')
    op.drop_table('service_config')
    op.drop_index(op.f('ix_role_member_user_id'), table_name='role_member')
    op.drop_table('role_member')
    op.drop_table('host_agent')
    op.drop_table('endpoint_config')
    op.drop_index(op.f('ix_custom_dashboard_owner_id'), table_name='custom_dashboard')
    op.drop_index(op.f('ix_custom_dashboard_application_id'), table_name='custom_dashboard')
    op.drop_table('custom_dashboard')
    op.drop_index(op.f('ix_application_config_modified_by'), table_name='application_config')
    op.drop_index(op.f('ix_application_config_created_by'), table_name='application_config')
    op.drop_table('application_config')
    op.drop_index(op.f('ix_api_token_created_by'), table_name='api_token')
    op.drop_table('api_token')
    op.drop_table('user_group')
    op.drop_table('user_account')
    op.drop_table('team')
    op.drop_table('role')
    op.drop_table('event_specification')
