"""orders indexes on (customer_id, created_at) and (phone, created_at), for the duplicate check

Revision ID: d14a7c3e9b21
Revises: ae69d231fdc9
Create Date: 2026-12-05 07:30:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = 'd14a7c3e9b21'
down_revision: Union[str, Sequence[str], None] = 'ae69d231fdc9'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_customer_created', ['customer_id', 'created_at'], unique=False)
        batch_op.create_index('ix_orders_phone_created', ['phone', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_phone_created')
        batch_op.drop_index('ix_orders_customer_created')
