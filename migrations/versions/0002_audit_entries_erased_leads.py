"""audit entries, erased leads, lead indexes

Revision ID: 0002
Revises: 0001


"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['coordinator.id'], name=op.f('fk_audit_entry_actor_id_coordinator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entry_created', ['created_at', 'id'], unique=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_lead_clinic_created_id', ['clinic_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_lead_created_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_lead_email', ['email'], unique=False)
        batch_op.create_index('ix_lead_phone', ['phone'], unique=False)



def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_phone')
        batch_op.drop_index('ix_lead_email')
        batch_op.drop_index('ix_lead_created_id')
        batch_op.drop_index('ix_lead_clinic_created_id')
        batch_op.drop_column('erased_at')

    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_created')

    op.drop_table('audit_entry')
