"""issue 15: coei_survey (the COEI questions asked in chat, and the answers) and
desk_metrics_snapshot (the board's metrics as last computed, for a fast first paint)

Revision ID: h15c0e1a2b3d4
Revises: h14b5desk01
Create Date: 2026-12-05 07:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'h15c0e1a2b3d4'
down_revision: Union[str, Sequence[str], None] = 'h14b5desk01'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('desk_metrics_snapshot',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('coei_survey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('question', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('month', 'order_id', name='uq_coei_survey_month_order')
    )
    with op.batch_alter_table('coei_survey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coei_survey_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coei_survey_month'), ['month'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('coei_survey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coei_survey_month'))
        batch_op.drop_index(batch_op.f('ix_coei_survey_customer_id'))
    op.drop_table('coei_survey')
    op.drop_table('desk_metrics_snapshot')
