"""runs can be resumed: a resumed run names the run it continues (resumed_from) and counts the
automatic resumes after worker deaths in a row (auto_resumes), so a crash that repeats stops

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resumed_from', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('auto_resumes', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('auto_resumes')
        batch_op.drop_column('resumed_from')
