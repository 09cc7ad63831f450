"""Dataset 1.2: website monitoring (EUM): websites, their sessions and beacons, the metric catalog, metric points
derived from the beacons, and website Smart Alert configs."""

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

# Instana's aggregation enum for EUM / Smart Alert metrics
EUM_AGGREGATIONS = ("SUM", "MEAN", "MAX", "MIN", "P25", "P50", "P75", "P90", "P95", "P98", "P99", "P99_9", "P99_99",
                    "DISTINCT_COUNT", "SUM_POSITIVE", "PER_SECOND", "INCREASE")
EUM_AGGREGATIONS_SQL = ", ".join(f"'{a}'" for a in EUM_AGGREGATIONS)
GRANULARITIES_MS = (60000, 300000, 600000, 900000, 1200000, 1800000)
GRANULARITIES_SQL = ", ".join(str(g) for g in GRANULARITIES_MS)
THRESHOLD_OPERATORS_SQL = "'>', '>=', '<', '<='"
# the value type of Instana's `beacon.type` tag for the beacon kinds generated
WEBSITE_BEACON_TYPES = ("pageLoad", "resourceLoad", "httpRequest", "error")
_BEACON_TYPES_SQL = ", ".join(f"'{t}'" for t in WEBSITE_BEACON_TYPES)
WEBSITE_ALERT_TYPES = ("slowness", "statusCode", "throughput", "specificJsError", "customEvent")
_WEBSITE_ALERT_TYPES_SQL = ", ".join(f"'{t}'" for t in WEBSITE_ALERT_TYPES)
FORMATTERS_SQL = "'NUMBER', 'MILLIS', 'BYTES', 'PERCENTAGE', 'LATENCY'"


def alert_threshold_checks() -> tuple[CheckConstraint, ...]:
    """Constraints shared by the website and mobile Smart Alert configs (fresh objects per table)."""
    return (
        CheckConstraint("length(name) BETWEEN 1 AND 256", name="name_length"),
        CheckConstraint(f"granularity_ms IN ({GRANULARITIES_SQL})", name="granularity"),
        CheckConstraint(f"aggregation IN ({EUM_AGGREGATIONS_SQL})", name="aggregation"),
        CheckConstraint(f"threshold_operator IN ({THRESHOLD_OPERATORS_SQL})", name="threshold_operator"),
        CheckConstraint("critical_value >= 0 AND (warning_value IS NULL OR warning_value >= 0)",
                        name="thresholds_non_negative"),
        # a warning fires before the critical threshold is reached, whichever direction the operator points
        CheckConstraint("warning_value IS NULL OR CASE WHEN threshold_operator IN ('>', '>=')"
                        " THEN warning_value < critical_value ELSE warning_value > critical_value END",
                        name="warning_before_critical"),
        CheckConstraint("severity IN (5, 10)", name="severity"),
        CheckConstraint("jsonb_typeof(time_threshold) = 'object' AND time_threshold->>'type' IN"
                        " ('violationsInSequence', 'violationsInPeriod', 'userImpactOfViolationsInSequence')",
                        name="time_threshold_type"),
        CheckConstraint("jsonb_typeof(tag_filter_expression) = 'object'"
                        " AND tag_filter_expression->>'type' IN ('EXPRESSION', 'TAG_FILTER')",
                        name="tag_filter_expression_type"),
        CheckConstraint("jsonb_typeof(custom_payload_fields) = 'array'", name="custom_payload_fields_array"),
        CheckConstraint("initial_created_ms <= created_ms", name="created_after_initial"),
    )


class Website(Base):
    """An Instana website (`Website`); `origin` is where its pages are served (beacons' locationOrigin, browser
    tests' URL); `application_id` is the application perspective that serves its HTTP calls."""

    __tablename__ = "website"
    __table_args__ = (
        CheckConstraint("length(name) > 0", name="name_not_empty"),
        CheckConstraint("business_criticality BETWEEN 0 AND 5", name="business_criticality"),
        CheckConstraint("origin ~ '^https://[a-z0-9.-]+$'", name="origin_url"),
        # lets a browser synthetic test name (website, its application) with one composite FK
        UniqueConstraint("id", "application_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    app_name: Mapped[str] = mapped_column(Text, nullable=False)
    business_criticality: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    origin: Mapped[str] = mapped_column(Text, nullable=False, unique=True)


class WebsiteSession(Base):
    """A browser session: the user agent and geo facts every beacon of the session shares."""

    __tablename__ = "website_session"
    __table_args__ = (
        CheckConstraint("device_type IN ('desktop', 'mobile', 'tablet')", name="device_type"),
        CheckConstraint("country_code ~ '^[A-Z]{2}$'", name="country_code"),
        UniqueConstraint("session_id", "website_id"),
    )

    session_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("website.id"), nullable=False, index=True)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    browser_name: Mapped[str] = mapped_column(Text, nullable=False)
    browser_version: Mapped[str] = mapped_column(Text, nullable=False)
    os_name: Mapped[str] = mapped_column(Text, nullable=False)
    os_version: Mapped[str] = mapped_column(Text, nullable=False)
    device_type: Mapped[str] = mapped_column(String(8), nullable=False)
    country_code: Mapped[str] = mapped_column(String(2), nullable=False)
    country: Mapped[str] = mapped_column(Text, nullable=False)
    city: Mapped[str] = mapped_column(Text, nullable=False)


class WebsiteBeacon(Base):
    """Bulk table: one beacon (Instana `WebsiteMonitoringBeacon`). Every beacon belongs to a page load of the
    same session (a page load is its own page load); the type decides which columns are set."""

    __tablename__ = "website_beacon"
    __table_args__ = (
        CheckConstraint(f"type IN ({_BEACON_TYPES_SQL})", name="type"),
        CheckConstraint("(type = 'pageLoad') = (page_load_id = beacon_id)", name="page_load_is_own"),
        CheckConstraint("(type = 'error') = (duration_ms IS NULL)", name="duration_by_type"),
        CheckConstraint("duration_ms IS NULL OR duration_ms >= 0", name="duration_non_negative"),
        CheckConstraint("(type = 'pageLoad') = (backend_time_ms IS NOT NULL)"
                        " AND (backend_time_ms IS NULL OR backend_time_ms BETWEEN 0 AND duration_ms)",
                        name="backend_time_within_duration"),
        CheckConstraint("(type = 'resourceLoad') = (resource_type IS NOT NULL)"
                        " AND (resource_type IS NULL OR resource_type IN ('script', 'css', 'img', 'font'))",
                        name="resource_type"),
        CheckConstraint("(type <> 'error') = (url IS NOT NULL)", name="url_by_type"),
        CheckConstraint("CASE WHEN type = 'httpRequest'"
                        " THEN num_nonnulls(http_call_method, http_call_status, endpoint_id) = 3"
                        " ELSE num_nonnulls(http_call_method, http_call_status, endpoint_id) = 0 END",
                        name="http_call_by_type"),
        CheckConstraint("http_call_status IS NULL OR http_call_status BETWEEN 100 AND 599",
                        name="http_call_status"),
        CheckConstraint("(type = 'error') = (error_type IS NOT NULL AND error_message IS NOT NULL)"
                        " AND (type = 'error' OR num_nonnulls(error_type, error_message) = 0)",
                        name="error_by_type"),
        ForeignKeyConstraint(["session_id", "website_id"],
                             ["website_session.session_id", "website_session.website_id"]),
        # the page load is a beacon of the same session (and so of the same website)
        ForeignKeyConstraint(["page_load_id", "session_id"],
                             ["website_beacon.beacon_id", "website_beacon.session_id"]),
        UniqueConstraint("beacon_id", "session_id"),
    )

    beacon_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    website_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    session_id: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    page_load_id: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    type: Mapped[str] = mapped_column(String(16), nullable=False)
    timestamp_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    page: Mapped[str] = mapped_column(Text, nullable=False)
    backend_time_ms: Mapped[int | None] = mapped_column(Integer)
    resource_type: Mapped[str | None] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(Text)
    http_call_method: Mapped[str | None] = mapped_column(String(8))
    http_call_status: Mapped[int | None] = mapped_column(SmallInteger)
    endpoint_id: Mapped[str | None] = mapped_column(ForeignKey("endpoint.id"), index=True)
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)


class WebsiteMetricDefinition(Base):
    """The website metric catalog (Instana `WebsiteMonitoringMetricDescription`): exactly the metrics derived."""

    __tablename__ = "website_metric_definition"
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


class WebsiteMetricPoint(Base):
    """A metric value of one website in one time bucket, computed from the beacons of that bucket."""

    __tablename__ = "website_metric_point"
    __table_args__ = (
        CheckConstraint(f"aggregation IN ({EUM_AGGREGATIONS_SQL})", name="aggregation"),
        CheckConstraint("granularity_s > 0", name="granularity_positive"),
        CheckConstraint("value >= 0 AND value <> 'NaN'::float8", name="value_non_negative"),
    )

    website_id: Mapped[str] = mapped_column(ForeignKey("website.id"), primary_key=True)
    metric_id: Mapped[str] = mapped_column(ForeignKey("website_metric_definition.metric_id"), primary_key=True)
    aggregation: Mapped[str] = mapped_column(String(16), primary_key=True)
    ts_ms: Mapped[int] = mapped_column(EpochMs, primary_key=True)
    granularity_s: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Double, nullable=False)


class WebsiteAlertConfig(Base):
    """A website Smart Alert (`WebsiteAlertConfigWithRBACTag`): one rule on a catalog metric with warning and
    critical static thresholds; the time threshold, tag filter and payload fields are JSONB in wire format."""

    __tablename__ = "website_alert_config"
    __table_args__ = (
        *alert_threshold_checks(),
        CheckConstraint(f"alert_type IN ({_WEBSITE_ALERT_TYPES_SQL})", name="alert_type"),
        CheckConstraint("(alert_type IN ('statusCode', 'specificJsError')) = (rule_operator IS NOT NULL)",
                        name="rule_operator_by_type"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    website_id: Mapped[str] = mapped_column(ForeignKey("website.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False)
    triggering: Mapped[bool] = mapped_column(Boolean, nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    granularity_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    alert_type: Mapped[str] = mapped_column(String(16), nullable=False)
    metric_id: Mapped[str] = mapped_column(ForeignKey("website_metric_definition.metric_id"), nullable=False)
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


class WebsiteAlertConfigChannel(Base):
    """The alerting channels a website Smart Alert notifies (`alertChannelIds`)."""

    __tablename__ = "website_alert_config_channel"

    alert_config_id: Mapped[str] = mapped_column(ForeignKey("website_alert_config.id"), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("alerting_channel.id"), primary_key=True, index=True)
