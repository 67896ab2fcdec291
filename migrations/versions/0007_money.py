"""The money trail: the approved subsidy split and plan on cases; payments, recoveries and the
county's funds per level

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

YUAN = sa.Numeric(precision=12, scale=2)
CASE_COLUMNS = (
    ('planned_area_m2', sa.Numeric(precision=8, scale=2)),
    ('estimated_cost_yuan', YUAN),
    ('subsidy_central_yuan', YUAN),
    ('subsidy_provincial_yuan', YUAN),
    ('subsidy_below_yuan', YUAN),
    ('loan_yuan', YUAN),
    ('own_funds_yuan', YUAN),
)


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, kind in CASE_COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=True))
    # A subsidy entered before the split existed counts as local money (省级以下) until the
    # county says otherwise: the total stays what it was.
    op.execute("UPDATE cases SET subsidy_below_yuan = subsidy_yuan "
               "WHERE subsidy_yuan IS NOT NULL")
    op.create_table(
        'recoveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('village_code', sa.String(length=12), nullable=False),
        sa.Column('amount_yuan', YUAN, nullable=False),
        sa.Column('recovered_yuan', YUAN, nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('closed_on', sa.Date(), nullable=True),
        sa.Column('opened_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_recoveries_case_id_cases'),
        sa.ForeignKeyConstraint(['village_code'], ['regions.code'],
                                name='fk_recoveries_village_code_regions'),
        sa.ForeignKeyConstraint(['opened_by'], ['users.id'],
                                name='fk_recoveries_opened_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_recoveries'),
    )
    op.create_index('ix_recoveries_case_id', 'recoveries', ['case_id'])
    op.create_index('ix_recoveries_village_code', 'recoveries', ['village_code'])
    op.create_table(
        'payments',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('village_code', sa.String(length=12), nullable=False),
        sa.Column('tranche', sa.String(length=20), nullable=False),
        sa.Column('fund_level', sa.String(length=20), nullable=False),
        sa.Column('amount_yuan', YUAN, nullable=False),
        sa.Column('paid_on', sa.Date(), nullable=False),
        sa.Column('payee_kind', sa.String(length=20), nullable=False),
        sa.Column('payee_name', sa.String(length=100), nullable=False),
        sa.Column('payee_account', sa.String(length=40), nullable=True),
        sa.Column('voucher_id', sa.String(length=36), nullable=False),
        sa.Column('recovery_id', sa.Integer(), nullable=True),
        sa.Column('batch_no', sa.String(length=60), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name='fk_payments_case_id_cases'),
        sa.ForeignKeyConstraint(['village_code'], ['regions.code'],
                                name='fk_payments_village_code_regions'),
        sa.ForeignKeyConstraint(['voucher_id'], ['attachments.id'],
                                name='fk_payments_voucher_id_attachments'),
        sa.ForeignKeyConstraint(['recovery_id'], ['recoveries.id'],
                                name='fk_payments_recovery_id_recoveries'),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name='fk_payments_recorded_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_payments'),
    )
    op.create_index('ix_payments_case_id', 'payments', ['case_id'])
    op.create_index('ix_payments_village_code', 'payments', ['village_code'])
    op.create_index('ix_payments_paid_on', 'payments', ['paid_on'])
    op.create_table(
        'fund_allocations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('county_code', sa.String(length=12), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('fund_level', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('amount_yuan', YUAN, nullable=False),
        sa.Column('on', sa.Date(), nullable=False),
        sa.Column('document_no', sa.String(length=100), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('recorded_by', sa.Integer(), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['county_code'], ['regions.code'],
                                name='fk_fund_allocations_county_code_regions'),
        sa.ForeignKeyConstraint(['recorded_by'], ['users.id'],
                                name='fk_fund_allocations_recorded_by_users'),
        sa.PrimaryKeyConstraint('id', name='pk_fund_allocations'),
    )
    op.create_index('ix_fund_allocations_county_code', 'fund_allocations', ['county_code'])


def downgrade():
    op.drop_table('fund_allocations')
    op.drop_table('payments')
    op.drop_table('recoveries')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, _ in reversed(CASE_COLUMNS):
            batch_op.drop_column(name)
