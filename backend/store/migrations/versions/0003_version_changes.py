"""graph versions say what changed and who saved them: rapid saves from one editor replace the
latest version (saved_at, saves, client), and each version keeps its changes from the one before
(existing versions: saved_at = created_at, one save, changes left null and computed when listed)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('graph_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('saved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('saves', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('changes', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('client', sa.String(length=64), nullable=True))
    op.execute('UPDATE graph_versions SET saved_at = created_at')
    with op.batch_alter_table('graph_versions', schema=None) as batch_op:
        batch_op.alter_column('saved_at', existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('graph_versions', schema=None) as batch_op:
        batch_op.drop_column('client')
        batch_op.drop_column('changes')
        batch_op.drop_column('saves')
        batch_op.drop_column('saved_at')
