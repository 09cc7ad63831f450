"""Dataset 1.2: synthetic monitoring: locations (PoPs), tests against real endpoints or websites, the locations
each test runs from, and the results of every scheduled run."""

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
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs

SYNTHETIC_TYPES = ("HTTPAction", "HTTPScript", "BrowserScript", "WebpageAction", "WebpageScript", "DNS",
                   "SSLCertificate", "ICMP", "NotConfigured")
SYNTHETIC_TYPES_SQL = ", ".join(f"'{t}'" for t in SYNTHETIC_TYPES)
API_TYPES_SQL = "'HTTPAction', 'HTTPScript'"
BROWSER_TYPES_SQL = "'BrowserScript', 'WebpageAction', 'WebpageScript'"


class SyntheticLocation(Base):
    """A point of presence tests run from (Instana `SyntheticLocation`)."""

    __tablename__ = "synthetic_location"
    __table_args__ = (
        CheckConstraint("length(label) BETWEEN 1 AND 128", name="label_length"),
        CheckConstraint("location_type IN ('Managed', 'Private')", name="location_type"),
        CheckConstraint("status IN ('Online', 'Offline')", name="status"),
        CheckConstraint("latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180", name="geo_point"),
        CheckConstraint(f"synthetic_types <@ ARRAY[{SYNTHETIC_TYPES_SQL}]::varchar[]"
                        " AND cardinality(synthetic_types) > 0", name="synthetic_types_enum"),
        CheckConstraint("browser_types <@ ARRAY['chrome', 'firefox']::varchar[]", name="browser_types_enum"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    display_label: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    location_type: Mapped[str] = mapped_column(String(8), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    pop_version: Mapped[str] = mapped_column(String(32), nullable=False)
    city_name: Mapped[str] = mapped_column(Text, nullable=False)
    country_name: Mapped[str] = mapped_column(Text, nullable=False)
    latitude: Mapped[float] = mapped_column(Double, nullable=False)
    longitude: Mapped[float] = mapped_column(Double, nullable=False)
    synthetic_types: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    browser_types: Mapped[list[str]] = mapped_column(ARRAY(String(8)), nullable=False)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class SyntheticTest(Base):
    """A synthetic test (Instana `SyntheticTest`): API tests call a real endpoint (its service in the test's
    application), browser tests load a real website (of the test's application). `configuration` is the
    wire-format `SyntheticTypeConfiguration` (discriminator `syntheticType`)."""

    __tablename__ = "synthetic_test"
    __table_args__ = (
        CheckConstraint("length(label) BETWEEN 1 AND 128", name="label_length"),
        CheckConstraint("description IS NULL OR length(description) <= 512", name="description_length"),
        CheckConstraint("test_frequency_min BETWEEN 1 AND 1440", name="test_frequency"),
        CheckConstraint("playback_mode IN ('Simultaneous', 'Staggered')", name="playback_mode"),
        CheckConstraint(f"synthetic_type IN ({SYNTHETIC_TYPES_SQL})", name="synthetic_type"),
        CheckConstraint("jsonb_typeof(configuration) = 'object' AND configuration->>'syntheticType' = synthetic_type"
                        " AND jsonb_typeof(configuration->'markSyntheticCall') = 'boolean'",
                        name="configuration_matches_type"),
        CheckConstraint("synthetic_type NOT IN ('HTTPAction', 'WebpageAction') OR configuration->>'url' = url",
                        name="configuration_url"),
        CheckConstraint("url ~ '^https://[a-z0-9.-]+(/[^ ]*)?$'", name="url_format"),
        CheckConstraint(
            f"CASE WHEN synthetic_type IN ({API_TYPES_SQL})"
            " THEN num_nonnulls(endpoint_id, service_id) = 2 AND website_id IS NULL"
            f" WHEN synthetic_type IN ({BROWSER_TYPES_SQL})"
            " THEN website_id IS NOT NULL AND num_nonnulls(endpoint_id, service_id) = 0"
            " ELSE TRUE END",
            name="target_by_type"),
        CheckConstraint("modified_ms >= created_ms", name="modified_after_created"),
        # the endpoint is one of its service's ...
        ForeignKeyConstraint(["endpoint_id", "service_id"], ["endpoint.id", "endpoint.service_id"]),
        # ... and the service belongs to the test's application
        ForeignKeyConstraint(["application_id", "service_id"],
                             ["application_service.application_id", "application_service.service_id"]),
        # a website test belongs to the website's application
        ForeignKeyConstraint(["website_id", "application_id"], ["website.id", "website.application_id"]),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False)
    test_frequency_min: Mapped[int] = mapped_column(Integer, nullable=False)
    playback_mode: Mapped[str] = mapped_column(String(16), nullable=False)
    synthetic_type: Mapped[str] = mapped_column(String(16), nullable=False)
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    service_id: Mapped[str | None] = mapped_column(String(64), index=True)
    endpoint_id: Mapped[str | None] = mapped_column(String(64), index=True)
    website_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    modified_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)


class SyntheticTestLocation(Base):
    """The locations a test runs from (`SyntheticTest.locations`)."""

    __tablename__ = "synthetic_test_location"

    test_id: Mapped[str] = mapped_column(ForeignKey("synthetic_test.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("synthetic_location.id"), primary_key=True, index=True)


class SyntheticResult(Base):
    """Bulk table: one run of a test from one of its locations (Instana `TestResultListItem`). A failed run
    names the issue that explains it (`event_id`), unless it is one of the rare unexplained failures."""

    __tablename__ = "synthetic_result"
    __table_args__ = (
        CheckConstraint("status IN (0, 1)", name="status"),
        CheckConstraint("response_time_ms >= 0", name="response_time_non_negative"),
        CheckConstraint("response_size_bytes >= 0", name="response_size_non_negative"),
        CheckConstraint("http_status IS NULL OR http_status BETWEEN 100 AND 599", name="http_status"),
        CheckConstraint("(status = 1) = (cardinality(errors) = 0)", name="errors_iff_failed"),
        CheckConstraint("event_id IS NULL OR status = 0", name="explanation_only_for_failures"),
        CheckConstraint("run_type IN ('Scheduled', 'OnDemand')", name="run_type"),
        # the location is one the test is configured to run from
        ForeignKeyConstraint(["test_id", "location_id"],
                             ["synthetic_test_location.test_id", "synthetic_test_location.location_id"]),
    )

    result_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    test_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    location_id: Mapped[str] = mapped_column(String(64), nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    run_type: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    response_time_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_size_bytes: Mapped[int] = mapped_column(Integer, nullable=False)
    http_status: Mapped[int | None] = mapped_column(SmallInteger)
    errors: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    event_id: Mapped[str | None] = mapped_column(ForeignKey("event.event_id"), index=True)
