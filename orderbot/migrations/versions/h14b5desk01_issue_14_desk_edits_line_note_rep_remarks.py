"""issue 14 part 5: the desk's edits — order_line.note (why a rep added a line), orders.rep_remarks,
order_return.reference (a re-imported returns file records each return once)

Revision ID: h14b5desk01
Revises: d14a7c3e9b21
Create Date: 2026-12-05 07:15:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision: str = 'h14b5desk01'
down_revision: Union[str, Sequence[str], None] = 'd14a7c3e9b21'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rep_remarks', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('order_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_unique_constraint('uq_order_return_reference', ['reference'])


def downgrade() -> None:
    with op.batch_alter_table('order_return', schema=None) as batch_op:
        batch_op.drop_constraint('uq_order_return_reference', type_='unique')
        batch_op.drop_column('reference')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('rep_remarks')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('note')
