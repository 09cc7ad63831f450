"""Dataset 1.2: mobile app monitoring: apps, sessions and beacons (session starts, HTTP requests, crashes), the
metric catalog, metric points derived from the beacons, and mobile app Smart Alert configs."""

from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs
from apmseed.schema.web import EUM_AGGREGATIONS_SQL, FORMATTERS_SQL, alert_threshold_checks

MOBILE_BEACON_TYPES = ("sessionStart", "httpRequest", "crash")
_BEACON_TYPES_SQL = ", ".join(f"'{t}'" for t in MOBILE_BEACON_TYPES)
MOBILE_ALERT_TYPES = ("crash", "slowness", "statusCode", "throughput", "customEvent")
_MOBILE_ALERT_TYPES_SQL = ", ".join(f"'{t}'" for t in MOBILE_ALERT_TYPES)


class MobileApp(Base):
    """An Instana mobile app (`MobileApp`): one per platform, backed by an application perspective."""

    __tablename__ = "mobile_app"
    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 128", name="name_length"),
        CheckConstraint("platform IN ('iOS', 'Android')", name="platform"),
        CheckConstraint("business_criticality BETWEEN 0 AND 5", name="business_criticality"),
        CheckConstraint("bundle_identifier ~ '^[a-z][a-z0-9]*(\\.[a-z][a-z0-9]*)+$'", name="bundle_identifier"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    platform: Mapped[str] = mapped_column(String(8), nullable=False)
    bundle_identifier: Mapped[str] = mapped_column(Text, nullable=False)
    business_criticality: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)


class MobileSession(Base):
    """A user session of a mobile app: the app build, device and geo facts all its beacons share."""

    __tablename__ = "mobile_session"
    __table_args__ = (
        CheckConstraint("connection_type IN ('wifi', 'cellular')", name="connection_type"),
        CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country_code"),
        UniqueConstraint("session_id", "mobile_app_id"),
    )

    session_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    mobile_app_id: Mapped[str] = mapped_column(ForeignKey("mobile_app.id"), nullable=False, index=True)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    app_version: Mapped[str] = mapped_column(Text, nullable=False)
    app_build: Mapped[str] = mapped_column(Text, nullable=False)
    os_version: Mapped[str] = mapped_column(Text, nullable=False)
    device_manufacturer: Mapped[str] = mapped_column(Text, nullable=False)
    device_model: Mapped[str] = mapped_column(Text, nullable=False)
    carrier: Mapped[str | None] = mapped_column(Text)
    connection_type: Mapped[str] = mapped_column(String(8), nullable=False)
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    country: Mapped[str] = mapped_column(Text, nullable=False)
    city: Mapped[str] = mapped_column(Text, nullable=False)
    user_id: Mapped[str] = mapped_column(String(32), nullable=False)


class MobileBeacon(Base):
    """Bulk table: one beacon (Instana `MobileAppMonitoringBeacon`) of a session; the type decides which columns
    are set."""

    __tablename__ = "mobile_beacon"
    __table_args__ = (
        CheckConstraint(f"type IN ({_BEACON_TYPES_SQL})", name="type"),
        CheckConstraint("(type = 'httpRequest') = (duration_ms IS NOT NULL)"
                        " AND (duration_ms IS NULL OR duration_ms >= 0)", name="duration_by_type"),
        CheckConstraint("CASE WHEN type = 'httpRequest'"
                        " THEN num_nonnulls(url, http_call_method, http_call_status, endpoint_id) = 4"
                        " ELSE num_nonnulls(url, http_call_method, http_call_status, endpoint_id) = 0 END",
                        name="http_call_by_type"),
        CheckConstraint("http_call_status IS NULL OR http_call_status BETWEEN 100 AND 599",
                        name="http_call_status"),
        CheckConstraint("CASE WHEN type = 'crash' THEN num_nonnulls(error_type, error_message, stack_trace) = 3"
                        " ELSE num_nonnulls(error_type, error_message, stack_trace) = 0 END",
                        name="crash_by_type"),
        ForeignKeyConstraint(["session_id", "mobile_app_id"],
                             ["mobile_session.session_id", "mobile_session.mobile_app_id"]),
    )

    beacon_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    mobile_app_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    session_id: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    timestamp_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    view: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    http_call_method: Mapped[str | None] = mapped_column(String(8))
    http_call_status: Mapped[int | None] = mapped_column(SmallInteger)
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("endpoint.id"), index=True)
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    stack_trace: Mapped[str | None] = mapped_column(Text)


class MobileMetricDefinition(Base):
    """The mobile app metric catalog (Instana `MobileAppMonitoringMetricDescription`)."""

    __tablename__ = "mobile_metric_definition"
    __table_args__ = (
        CheckConstraint(f"aggregations <@ ARRAY[{EUM_AGGREGATIONS_SQL}]::varchar[] AND cardinality(aggregations) > 0",
                        name="aggregations_enum"),
        CheckConstraint("default_aggregation = ANY(aggregations)", name="default_aggregation_listed"),
        CheckConstraint(f"beacon_types <@ ARRAY[{_BEACON_TYPES_SQL}]::varchar[] AND cardinality(beacon_types) > 0",
                        name="beacon_types_enum"),
        CheckConstraint(f"formatter IN ({FORMATTERS_SQL})", name="formatter"),
    )

    metric_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False)
    formatter: Mapped[str] = mapped_column(String(16), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    aggregations: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    default_aggregation: Mapped[str] = mapped_column(String(16), nullable=False)
    beacon_types: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    path_to_value: Mapped[list[str] | None] = mapped_column(ARRAY(Text))


class MobileMetricPoint(Base):
    """A metric value of one mobile app in one time bucket, computed from the beacons of that bucket."""

    __tablename__ = "mobile_metric_point"
    __table_args__ = (
        CheckConstraint(f"aggregation IN ({EUM_AGGREGATIONS_SQL})", name="aggregation"),
        CheckConstraint("granularity_s > 0", name="granularity_positive"),
        CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name="value_non_negative"),
    )

    mobile_app_id: Mapped[str] = mapped_column(ForeignKey("mobile_app.id"), primary_key=True)
    metric_id: Mapped[str] = mapped_column(ForeignKey("mobile_metric_definition.metric_id"), primary_key=True)
    aggregation: Mapped[str] = mapped_column(String(16), primary_key=True)
    ts_ms: Mapped[int] = mapped_column(EpochMs, primary_key=True)
    granularity_s: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Double, nullable=False)


class MobileAppAlertConfig(Base):
    """A mobile app Smart Alert (`MobileAppAlertConfigWithRBACTag`), shaped like the website one."""

    __tablename__ = "mobile_app_alert_config"
    __table_args__ = (
        *alert_threshold_checks(),
        CheckConstraint(f"alert_type IN ({_MOBILE_ALERT_TYPES_SQL})", name="alert_type"),
        CheckConstraint("(alert_type = 'statusCode') = (rule_operator IS NOT NULL)", name="rule_operator_by_type"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mobile_app_id: Mapped[str] = mapped_column(ForeignKey("mobile_app.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    triggering: Mapped[bool] = mapped_column(Boolean, nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    granularity_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    alert_type: Mapped[str] = mapped_column(String(16), nullable=False)
    metric_id: Mapped[str] = mapped_column(ForeignKey("mobile_metric_definition.metric_id"), nullable=False)
    aggregation: Mapped[str] = mapped_column(String(16), nullable=False)
    rule_operator: Mapped[str | None] = mapped_column(String(32))
    rule_value: Mapped[str | None] = mapped_column(Text)
    threshold_operator: Mapped[str] = mapped_column(String(2), nullable=False)
    warning_value: Mapped[float | None] = mapped_column(Double)
    critical_value: Mapped[float] = mapped_column(Double, nullable=False)
    time_threshold: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    tag_filter_expression: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    custom_payload_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    initial_created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class MobileAppAlertConfigChannel(Base):
    """The alerting channels a mobile app Smart Alert notifies (`alertChannelIds`)."""

    __tablename__ = "mobile_app_alert_config_channel"

    alert_config_id: Mapped[str] = mapped_column(ForeignKey("mobile_app_alert_config.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("alerting_channel.id"), primary_key=True, index=True)
