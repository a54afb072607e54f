"""push_delivery as a send ledger: state (sending / sent / failed / unsure), attempts, repeats

Revision ID: b16e5e4d1e0a
Revises: h15c0e1a2b3d4
Create Date: 2026-12-05 07:20:00

A row is now written before the outbound call (state `sending`) and finished after it, so a
worker killed between WeChat's answer and our record leaves a trace: the next attempt sees
the row still `sending`, sends again and counts the repeat. Rows written before this
revision were all written after the call: they are `sent`.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'b16e5e4d1e0a'
down_revision: Union[str, Sequence[str], None] = 'h15c0e1a2b3d4'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('push_delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sa.String(), nullable=False, server_default='sent'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('repeats', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('repeat_cause', sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('push_delivery', schema=None) as batch_op:
        batch_op.drop_column('repeat_cause')
        batch_op.drop_column('repeats')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
