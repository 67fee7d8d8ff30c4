"""drop the results table: the result store's files (with their JSON sidecars) are the one
index of what is cached, for "is it cached?" and the executor alike

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('results')


def downgrade() -> None:
    op.create_table('results',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=200), nullable=False),
    sa.Column('component', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(), nullable=False),
    sa.Column('created', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
