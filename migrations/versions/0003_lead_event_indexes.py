"""lead event indexes

Revision ID: 0003
Revises: 0002


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead_event', schema=None) as batch_op:
        batch_op.create_index('ix_lead_event_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_lead_event_kind_created', ['kind', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('lead_event', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_event_kind_created')
        batch_op.drop_index('ix_lead_event_created_id')

