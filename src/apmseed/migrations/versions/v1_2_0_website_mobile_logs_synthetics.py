"""dataset 1.2.0: website, mobile, logs, synthetics

Revision ID: 1.2.0
Revises: 1.1.0
Create Date: 2026-11-27 09:15:00
"""
from collections.abc import Sequence

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401
from sqlalchemy.dialects import postgresql  # noqa: F401

revision: str = '1.2.0'
down_revision: str | None = '1.1.0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
