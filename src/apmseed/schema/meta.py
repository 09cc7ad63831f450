"""What the database holds: one row describing the seeded dataset (version, seed, options)."""

from typing import Any

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from apmseed.schema.base import Base, EpochMs


class DatasetInfo(Base):
    """Single-row table: lets `db upgrade` reseed new tables with the seed and options already used."""

    __tablename__ = "apmseed_dataset"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    dataset_version: Mapped[str] = mapped_column(String(16), nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False)
    end_time_ms: Mapped[int] = mapped_column(EpochMs, nullable=False)
    options: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    tool_version: Mapped[str] = mapped_column(String(32), nullable=False)
