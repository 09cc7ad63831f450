"""Dataset 1.3: releases (Instana `ReleaseWithMetadata`) and what they explain, plus the events that are not
issues and the issue <-> metric correlation.

Changes and incidents live in tables of their own instead of relaxing the CHECKs of the 1.0 `event` table: an
in-place upgrade then leaves every `event` row and constraint as it was, and each kind gets exact constraints
(a change is always a closed deploy of one release; an incident always groups issues of one application)."""

from sqlalchemy import (
    CheckConstraint,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs


class Release(Base):
    """A deployment marker. Version, author and rollback are not part of Instana's model: they stay in the
    database (the version also shows in `name`, e.g. `cart/v2.3.1`)."""

    __tablename__ = "release"
    __table_args__ = (
        CheckConstraint("length(name) BETWEEN 1 AND 256", name="name_length"),
        CheckConstraint("length(version) > 0", name="version_not_empty"),
        CheckConstraint("last_updated_ms >= start_ms", name="updated_after_start"),
        CheckConstraint("rollback_of_release_id <> id", name="no_self_rollback"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    version: Mapped[str] = mapped_column(String(64), nullable=False)
    author: Mapped[str] = mapped_column(Text, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    last_updated_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    # a rollback redeploys what ran before `rollback_of_release_id`
    rollback_of_release_id: Mapped[str | None] = mapped_column(ForeignKey("release.id"))


class ReleaseApplication(Base):
    """`ReleaseWithMetadata.applications[]`: the application perspectives where the release can be viewed."""

    __tablename__ = "release_application"

    release_id: Mapped[str] = mapped_column(ForeignKey("release.id"), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), primary_key=True, index=True)


class ReleaseService(Base):
    """`services[].scopedTo.applications[]` (and `scopes[]`): a released service, per application perspective it
    is scoped to. The composite FKs prove that the application contains the service and that the release lists
    the application."""

    __tablename__ = "release_service"
    __table_args__ = (
        ForeignKeyConstraint(["release_id", "application_id"],
                             ["release_application.release_id", "release_application.application_id"]),
        ForeignKeyConstraint(["application_id", "service_id"],
                             ["application_service.application_id", "application_service.service_id"]),
    )

    release_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    application_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class ReleaseIssue(Base):
    """A release deployed shortly before an issue started, explaining it (a bad deploy). Which release and
    issue qualify (same service, one to two minutes before) is checked by `apmseed validate` and the tests."""

    __tablename__ = "release_issue"

    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), primary_key=True)
    release_id: Mapped[str] = mapped_column(ForeignKey("release.id"), nullable=False, index=True)


class ChangeEvent(Base):
    """An Instana event of type `change` (severity -1, closed): the deploy of one release, on the released
    service (`SERVICE`) or, for a release of several services, on their application (`APPLICATION`)."""

    __tablename__ = "change_event"
    __table_args__ = (
        CheckConstraint("entity_type IN ('APPLICATION', 'SERVICE')", name="entity_type"),
        CheckConstraint("(entity_type = 'SERVICE') = (service_id IS NOT NULL)", name="entity_matches_type"),
        CheckConstraint("end_ms >= start_ms", name="end_after_start"),
        CheckConstraint("length(problem) > 0", name="problem_not_empty"),
        ForeignKeyConstraint(["release_id", "application_id"],
                             ["release_application.release_id", "release_application.application_id"]),
        ForeignKeyConstraint(["release_id", "service_id", "application_id"],
                             ["release_service.release_id", "release_service.service_id",
                              "release_service.application_id"]),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    release_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)  # one deploy per release
    entity_type: Mapped[str] = mapped_column(String(16), nullable=False)
    application_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    service_id: Mapped[str | None] = mapped_column(String(64), index=True)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    end_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    problem: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    entity_label: Mapped[str] = mapped_column(Text, nullable=False)


class Incident(Base):
    """An Instana event of type `incident` on an application: it groups issues (`incident_event`) and names the
    first of them as `triggeringEventId`."""

    __tablename__ = "incident"
    __table_args__ = (
        CheckConstraint("severity IN (5, 10)", name="severity"),
        CheckConstraint("state IN ('open', 'closed')", name="state"),
        CheckConstraint("(state = 'closed') = (end_ms IS NOT NULL)", name="end_iff_closed"),
        CheckConstraint("end_ms IS NULL OR end_ms >= start_ms", name="end_after_start"),
        CheckConstraint("length(problem) > 0", name="problem_not_empty"),
    )

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("application.id"), nullable=False, index=True)
    triggering_event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(8), nullable=False)
    severity: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_ms: Mapped[int] = mapped_column(EpochMs, nullable=False, index=True)
    end_ms: Mapped[int | None] = mapped_column(EpochMs)
    problem: Mapped[str] = mapped_column(Text, nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    fix_suggestion: Mapped[str] = mapped_column(Text, nullable=False)
    entity_label: Mapped[str] = mapped_column(Text, nullable=False)


class IncidentEvent(Base):
    """The issues an incident groups (`recentEvents`), the triggering one included."""

    __tablename__ = "incident_event"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.event_id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), primary_key=True, index=True)


class EventMetric(Base):
    """Issue <-> metric correlation (the roadmap's `correlated_metrics`, Instana `EventResult.metrics`): a series
    of the issue's entity and the window [from, to) in which it shows the excursion. The means are measured from
    the points when the layer is built; the CHECK keeps only windows that really stand out."""

    __tablename__ = "event_metric"
    __table_args__ = (
        CheckConstraint("window_to_ms > window_from_ms", name="window"),
        CheckConstraint("window_mean > baseline_mean", name="excursion"),
        CheckConstraint("peak >= window_mean", name="peak_at_least_mean"),
    )

    event_id: Mapped[str] = mapped_column(ForeignKey("event.event_id"), primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("metric_series.series_id"), primary_key=True, index=True)
    window_from_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    window_to_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    window_mean: Mapped[float] = mapped_column(Double, nullable=False)  # mean of the points in the window
    baseline_mean: Mapped[float] = mapped_column(Double, nullable=False)  # mean of the points outside it
    peak: Mapped[float] = mapped_column(Double, nullable=False)  # highest point in the window
