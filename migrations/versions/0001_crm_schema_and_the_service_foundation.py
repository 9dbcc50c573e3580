"""CRM schema and the service foundation

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 18:25:19.709818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _crm_tables_here() -> bool:
    # False when the CRM lives in a database of its own (see migrations/env.py).
    return bool(context.config.attributes.get("crm_tables", True))


def upgrade() -> None:
    if _crm_tables_here():
        op.create_table('address',
        sa.Column('addr_addressid', sa.Integer(), nullable=False),
        sa.Column('addr_address1', sa.String(length=255), nullable=True),
        sa.Column('addr_address2', sa.String(length=255), nullable=True),
        sa.Column('addr_address3', sa.String(length=255), nullable=True),
        sa.Column('addr_address4', sa.String(length=255), nullable=True),
        sa.Column('addr_city', sa.String(length=120), nullable=True),
        sa.Column('addr_state', sa.String(length=120), nullable=True),
        sa.Column('addr_postcode', sa.String(length=40), nullable=True),
        sa.Column('addr_country', sa.String(length=120), nullable=True),
        sa.Column('addr_createdby', sa.Integer(), nullable=True),
        sa.Column('addr_createddate', sa.DateTime(), nullable=True),
        sa.Column('addr_updatedby', sa.Integer(), nullable=True),
        sa.Column('addr_updateddate', sa.DateTime(), nullable=True),
        sa.Column('addr_timestamp', sa.DateTime(), nullable=True),
        sa.Column('addr_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('addr_addressid', name=op.f('pk_address'))
        )
        with op.batch_alter_table('address', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_address_addr_updateddate'), ['addr_updateddate'], unique=False)
        op.create_table('address_link',
        sa.Column('adli_addresslinkid', sa.Integer(), nullable=False),
        sa.Column('adli_addressid', sa.Integer(), nullable=True),
        sa.Column('adli_companyid', sa.Integer(), nullable=True),
        sa.Column('adli_personid', sa.Integer(), nullable=True),
        sa.Column('adli_type', sa.String(length=40), nullable=True),
        sa.Column('adli_createdby', sa.Integer(), nullable=True),
        sa.Column('adli_createddate', sa.DateTime(), nullable=True),
        sa.Column('adli_updatedby', sa.Integer(), nullable=True),
        sa.Column('adli_updateddate', sa.DateTime(), nullable=True),
        sa.Column('adli_timestamp', sa.DateTime(), nullable=True),
        sa.Column('adli_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('adli_addresslinkid', name=op.f('pk_address_link'))
        )
        with op.batch_alter_table('address_link', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_address_link_adli_addressid'), ['adli_addressid'], unique=False)
            batch_op.create_index(batch_op.f('ix_address_link_adli_companyid'), ['adli_companyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_address_link_adli_personid'), ['adli_personid'], unique=False)
            batch_op.create_index(batch_op.f('ix_address_link_adli_updateddate'), ['adli_updateddate'], unique=False)
        op.create_table('cases',
        sa.Column('case_caseid', sa.Integer(), nullable=False),
        sa.Column('case_description', sa.String(length=255), nullable=True),
        sa.Column('case_primarycompanyid', sa.Integer(), nullable=True),
        sa.Column('case_primarypersonid', sa.Integer(), nullable=True),
        sa.Column('case_assigneduserid', sa.Integer(), nullable=True),
        sa.Column('case_status', sa.String(length=40), nullable=True),
        sa.Column('case_createdby', sa.Integer(), nullable=True),
        sa.Column('case_createddate', sa.DateTime(), nullable=True),
        sa.Column('case_updatedby', sa.Integer(), nullable=True),
        sa.Column('case_updateddate', sa.DateTime(), nullable=True),
        sa.Column('case_timestamp', sa.DateTime(), nullable=True),
        sa.Column('case_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('case_caseid', name=op.f('pk_cases'))
        )
        with op.batch_alter_table('cases', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_cases_case_primarycompanyid'), ['case_primarycompanyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_cases_case_primarypersonid'), ['case_primarypersonid'], unique=False)
            batch_op.create_index(batch_op.f('ix_cases_case_updateddate'), ['case_updateddate'], unique=False)
        op.create_table('comm_link',
        sa.Column('cmli_commlinkid', sa.Integer(), nullable=False),
        sa.Column('cmli_comm_communicationid', sa.Integer(), nullable=True),
        sa.Column('cmli_comm_userid', sa.Integer(), nullable=True),
        sa.Column('cmli_comm_personid', sa.Integer(), nullable=True),
        sa.Column('cmli_comm_companyid', sa.Integer(), nullable=True),
        sa.Column('cmli_isexternalattendee', sa.String(length=1), nullable=True),
        sa.Column('cmli_externalemail', sa.String(length=255), nullable=True),
        sa.Column('cmli_createdby', sa.Integer(), nullable=True),
        sa.Column('cmli_createddate', sa.DateTime(), nullable=True),
        sa.Column('cmli_updatedby', sa.Integer(), nullable=True),
        sa.Column('cmli_updateddate', sa.DateTime(), nullable=True),
        sa.Column('cmli_timestamp', sa.DateTime(), nullable=True),
        sa.Column('cmli_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('cmli_commlinkid', name=op.f('pk_comm_link'))
        )
        with op.batch_alter_table('comm_link', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_comm_link_cmli_comm_communicationid'), ['cmli_comm_communicationid'], unique=False)
            batch_op.create_index(batch_op.f('ix_comm_link_cmli_comm_companyid'), ['cmli_comm_companyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_comm_link_cmli_comm_personid'), ['cmli_comm_personid'], unique=False)
            batch_op.create_index(batch_op.f('ix_comm_link_cmli_comm_userid'), ['cmli_comm_userid'], unique=False)
            batch_op.create_index(batch_op.f('ix_comm_link_cmli_updateddate'), ['cmli_updateddate'], unique=False)
        op.create_table('communication',
        sa.Column('comm_communicationid', sa.Integer(), nullable=False),
        sa.Column('comm_opportunityid', sa.Integer(), nullable=True),
        sa.Column('comm_caseid', sa.Integer(), nullable=True),
        sa.Column('comm_type', sa.String(length=40), nullable=True),
        sa.Column('comm_action', sa.String(length=40), nullable=True),
        sa.Column('comm_status', sa.String(length=40), nullable=True),
        sa.Column('comm_priority', sa.String(length=40), nullable=True),
        sa.Column('comm_datetime', sa.DateTime(), nullable=True),
        sa.Column('comm_todatetime', sa.DateTime(), nullable=True),
        sa.Column('comm_subject', sa.Text(), nullable=True),
        sa.Column('comm_note', sa.Text(), nullable=True),
        sa.Column('comm_location', sa.String(length=255), nullable=True),
        sa.Column('comm_notifytime', sa.DateTime(), nullable=True),
        sa.Column('comm_private', sa.String(length=1), nullable=True),
        sa.Column('comm_crmonly', sa.String(length=1), nullable=True),
        sa.Column('comm_isalldayevent', sa.String(length=1), nullable=True),
        sa.Column('comm_organizer', sa.String(length=255), nullable=True),
        sa.Column('comm_completedtime', sa.DateTime(), nullable=True),
        sa.Column('comm_percentcomplete', sa.Integer(), nullable=True),
        sa.Column('comm_recurrencerule', sa.Text(), nullable=True),
        sa.Column('comm_recurrenceid', sa.Integer(), nullable=True),
        sa.Column('comm_exception', sa.String(length=1), nullable=True),
        sa.Column('comm_originaldatetime', sa.DateTime(), nullable=True),
        sa.Column('comm_from', sa.Text(), nullable=True),
        sa.Column('comm_to', sa.Text(), nullable=True),
        sa.Column('comm_cc', sa.Text(), nullable=True),
        sa.Column('comm_bcc', sa.Text(), nullable=True),
        sa.Column('comm_email', sa.Text(), nullable=True),
        sa.Column('comm_ishtml', sa.String(length=1), nullable=True),
        sa.Column('comm_hasattachments', sa.String(length=1), nullable=True),
        sa.Column('comm_messageid', sa.String(length=998), nullable=True),
        sa.Column('comm_createdby', sa.Integer(), nullable=True),
        sa.Column('comm_createddate', sa.DateTime(), nullable=True),
        sa.Column('comm_updatedby', sa.Integer(), nullable=True),
        sa.Column('comm_updateddate', sa.DateTime(), nullable=True),
        sa.Column('comm_timestamp', sa.DateTime(), nullable=True),
        sa.Column('comm_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('comm_communicationid', name=op.f('pk_communication'))
        )
        with op.batch_alter_table('communication', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_communication_comm_caseid'), ['comm_caseid'], unique=False)
            batch_op.create_index(batch_op.f('ix_communication_comm_messageid'), ['comm_messageid'], unique=False)
            batch_op.create_index(batch_op.f('ix_communication_comm_opportunityid'), ['comm_opportunityid'], unique=False)
            batch_op.create_index(batch_op.f('ix_communication_comm_recurrenceid'), ['comm_recurrenceid'], unique=False)
            batch_op.create_index(batch_op.f('ix_communication_comm_updateddate'), ['comm_updateddate'], unique=False)
        op.create_table('company',
        sa.Column('comp_companyid', sa.Integer(), nullable=False),
        sa.Column('comp_name', sa.String(length=255), nullable=True),
        sa.Column('comp_type', sa.String(length=40), nullable=True),
        sa.Column('comp_status', sa.String(length=40), nullable=True),
        sa.Column('comp_website', sa.String(length=255), nullable=True),
        sa.Column('comp_primaryaddressid', sa.Integer(), nullable=True),
        sa.Column('comp_primarypersonid', sa.Integer(), nullable=True),
        sa.Column('comp_primaryuserid', sa.Integer(), nullable=True),
        sa.Column('comp_librarydir', sa.String(length=255), nullable=True),
        sa.Column('comp_createdby', sa.Integer(), nullable=True),
        sa.Column('comp_createddate', sa.DateTime(), nullable=True),
        sa.Column('comp_updatedby', sa.Integer(), nullable=True),
        sa.Column('comp_updateddate', sa.DateTime(), nullable=True),
        sa.Column('comp_timestamp', sa.DateTime(), nullable=True),
        sa.Column('comp_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('comp_companyid', name=op.f('pk_company'))
        )
        with op.batch_alter_table('company', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_company_comp_name'), ['comp_name'], unique=False)
            batch_op.create_index(batch_op.f('ix_company_comp_updateddate'), ['comp_updateddate'], unique=False)
        op.create_table('email',
        sa.Column('emai_emailid', sa.Integer(), nullable=False),
        sa.Column('emai_emailaddress', sa.String(length=255), nullable=True),
        sa.Column('emai_createdby', sa.Integer(), nullable=True),
        sa.Column('emai_createddate', sa.DateTime(), nullable=True),
        sa.Column('emai_updatedby', sa.Integer(), nullable=True),
        sa.Column('emai_updateddate', sa.DateTime(), nullable=True),
        sa.Column('emai_timestamp', sa.DateTime(), nullable=True),
        sa.Column('emai_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('emai_emailid', name=op.f('pk_email'))
        )
        with op.batch_alter_table('email', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_email_emai_emailaddress'), ['emai_emailaddress'], unique=False)
            batch_op.create_index(batch_op.f('ix_email_emai_updateddate'), ['emai_updateddate'], unique=False)
        op.create_table('emaillink',
        sa.Column('elink_linkid', sa.Integer(), nullable=False),
        sa.Column('elink_entityid', sa.Integer(), nullable=True),
        sa.Column('elink_recordid', sa.Integer(), nullable=True),
        sa.Column('elink_emailid', sa.Integer(), nullable=True),
        sa.Column('elink_type', sa.String(length=40), nullable=True),
        sa.Column('elink_createdby', sa.Integer(), nullable=True),
        sa.Column('elink_createddate', sa.DateTime(), nullable=True),
        sa.Column('elink_updatedby', sa.Integer(), nullable=True),
        sa.Column('elink_updateddate', sa.DateTime(), nullable=True),
        sa.Column('elink_timestamp', sa.DateTime(), nullable=True),
        sa.Column('elink_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('elink_linkid', name=op.f('pk_emaillink'))
        )
        with op.batch_alter_table('emaillink', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_emaillink_elink_emailid'), ['elink_emailid'], unique=False)
            batch_op.create_index(batch_op.f('ix_emaillink_elink_recordid'), ['elink_recordid'], unique=False)
            batch_op.create_index(batch_op.f('ix_emaillink_elink_updateddate'), ['elink_updateddate'], unique=False)
        op.create_table('library',
        sa.Column('libr_libraryid', sa.Integer(), nullable=False),
        sa.Column('libr_filepath', sa.String(length=1024), nullable=True),
        sa.Column('libr_filename', sa.String(length=255), nullable=True),
        sa.Column('libr_type', sa.String(length=40), nullable=True),
        sa.Column('libr_status', sa.String(length=40), nullable=True),
        sa.Column('libr_global', sa.String(length=1), nullable=True),
        sa.Column('libr_communicationid', sa.Integer(), nullable=True),
        sa.Column('libr_companyid', sa.Integer(), nullable=True),
        sa.Column('libr_personid', sa.Integer(), nullable=True),
        sa.Column('libr_opportunityid', sa.Integer(), nullable=True),
        sa.Column('libr_caseid', sa.Integer(), nullable=True),
        sa.Column('libr_filesize', sa.BigInteger(), nullable=True),
        sa.Column('libr_sha256', sa.String(length=64), nullable=True),
        sa.Column('libr_createdby', sa.Integer(), nullable=True),
        sa.Column('libr_createddate', sa.DateTime(), nullable=True),
        sa.Column('libr_updatedby', sa.Integer(), nullable=True),
        sa.Column('libr_updateddate', sa.DateTime(), nullable=True),
        sa.Column('libr_timestamp', sa.DateTime(), nullable=True),
        sa.Column('libr_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('libr_libraryid', name=op.f('pk_library'))
        )
        with op.batch_alter_table('library', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_library_libr_caseid'), ['libr_caseid'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_communicationid'), ['libr_communicationid'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_companyid'), ['libr_companyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_opportunityid'), ['libr_opportunityid'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_personid'), ['libr_personid'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_sha256'), ['libr_sha256'], unique=False)
            batch_op.create_index(batch_op.f('ix_library_libr_updateddate'), ['libr_updateddate'], unique=False)
        op.create_table('opportunity',
        sa.Column('oppo_opportunityid', sa.Integer(), nullable=False),
        sa.Column('oppo_description', sa.String(length=255), nullable=True),
        sa.Column('oppo_primarycompanyid', sa.Integer(), nullable=True),
        sa.Column('oppo_primarypersonid', sa.Integer(), nullable=True),
        sa.Column('oppo_assigneduserid', sa.Integer(), nullable=True),
        sa.Column('oppo_stage', sa.String(length=40), nullable=True),
        sa.Column('oppo_status', sa.String(length=40), nullable=True),
        sa.Column('oppo_createdby', sa.Integer(), nullable=True),
        sa.Column('oppo_createddate', sa.DateTime(), nullable=True),
        sa.Column('oppo_updatedby', sa.Integer(), nullable=True),
        sa.Column('oppo_updateddate', sa.DateTime(), nullable=True),
        sa.Column('oppo_timestamp', sa.DateTime(), nullable=True),
        sa.Column('oppo_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('oppo_opportunityid', name=op.f('pk_opportunity'))
        )
        with op.batch_alter_table('opportunity', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_opportunity_oppo_primarycompanyid'), ['oppo_primarycompanyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_opportunity_oppo_primarypersonid'), ['oppo_primarypersonid'], unique=False)
            batch_op.create_index(batch_op.f('ix_opportunity_oppo_updateddate'), ['oppo_updateddate'], unique=False)
        op.create_table('person',
        sa.Column('pers_personid', sa.Integer(), nullable=False),
        sa.Column('pers_companyid', sa.Integer(), nullable=True),
        sa.Column('pers_primaryaddressid', sa.Integer(), nullable=True),
        sa.Column('pers_primaryuserid', sa.Integer(), nullable=True),
        sa.Column('pers_salutation', sa.String(length=20), nullable=True),
        sa.Column('pers_firstname', sa.String(length=60), nullable=True),
        sa.Column('pers_middlename', sa.String(length=60), nullable=True),
        sa.Column('pers_lastname', sa.String(length=60), nullable=True),
        sa.Column('pers_suffix', sa.String(length=20), nullable=True),
        sa.Column('pers_title', sa.String(length=120), nullable=True),
        sa.Column('pers_department', sa.String(length=120), nullable=True),
        sa.Column('pers_website', sa.String(length=255), nullable=True),
        sa.Column('pers_status', sa.String(length=40), nullable=True),
        sa.Column('pers_librarydir', sa.String(length=255), nullable=True),
        sa.Column('pers_createdby', sa.Integer(), nullable=True),
        sa.Column('pers_createddate', sa.DateTime(), nullable=True),
        sa.Column('pers_updatedby', sa.Integer(), nullable=True),
        sa.Column('pers_updateddate', sa.DateTime(), nullable=True),
        sa.Column('pers_timestamp', sa.DateTime(), nullable=True),
        sa.Column('pers_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('pers_personid', name=op.f('pk_person'))
        )
        with op.batch_alter_table('person', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_person_pers_companyid'), ['pers_companyid'], unique=False)
            batch_op.create_index(batch_op.f('ix_person_pers_lastname'), ['pers_lastname'], unique=False)
            batch_op.create_index(batch_op.f('ix_person_pers_updateddate'), ['pers_updateddate'], unique=False)
        op.create_table('phone',
        sa.Column('phon_phoneid', sa.Integer(), nullable=False),
        sa.Column('phon_countrycode', sa.String(length=10), nullable=True),
        sa.Column('phon_areacode', sa.String(length=20), nullable=True),
        sa.Column('phon_number', sa.String(length=60), nullable=True),
        sa.Column('phon_createdby', sa.Integer(), nullable=True),
        sa.Column('phon_createddate', sa.DateTime(), nullable=True),
        sa.Column('phon_updatedby', sa.Integer(), nullable=True),
        sa.Column('phon_updateddate', sa.DateTime(), nullable=True),
        sa.Column('phon_timestamp', sa.DateTime(), nullable=True),
        sa.Column('phon_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('phon_phoneid', name=op.f('pk_phone'))
        )
        with op.batch_alter_table('phone', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_phone_phon_updateddate'), ['phon_updateddate'], unique=False)
        op.create_table('phonelink',
        sa.Column('plink_linkid', sa.Integer(), nullable=False),
        sa.Column('plink_entityid', sa.Integer(), nullable=True),
        sa.Column('plink_recordid', sa.Integer(), nullable=True),
        sa.Column('plink_phoneid', sa.Integer(), nullable=True),
        sa.Column('plink_type', sa.String(length=40), nullable=True),
        sa.Column('plink_createdby', sa.Integer(), nullable=True),
        sa.Column('plink_createddate', sa.DateTime(), nullable=True),
        sa.Column('plink_updatedby', sa.Integer(), nullable=True),
        sa.Column('plink_updateddate', sa.DateTime(), nullable=True),
        sa.Column('plink_timestamp', sa.DateTime(), nullable=True),
        sa.Column('plink_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('plink_linkid', name=op.f('pk_phonelink'))
        )
        with op.batch_alter_table('phonelink', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_phonelink_plink_phoneid'), ['plink_phoneid'], unique=False)
            batch_op.create_index(batch_op.f('ix_phonelink_plink_recordid'), ['plink_recordid'], unique=False)
            batch_op.create_index(batch_op.f('ix_phonelink_plink_updateddate'), ['plink_updateddate'], unique=False)
        op.create_table('usercontacts',
        sa.Column('ucon_usercontactid', sa.Integer(), nullable=False),
        sa.Column('ucon_userid', sa.Integer(), nullable=True),
        sa.Column('ucon_personid', sa.Integer(), nullable=True),
        sa.Column('ucon_createdby', sa.Integer(), nullable=True),
        sa.Column('ucon_createddate', sa.DateTime(), nullable=True),
        sa.Column('ucon_updatedby', sa.Integer(), nullable=True),
        sa.Column('ucon_updateddate', sa.DateTime(), nullable=True),
        sa.Column('ucon_timestamp', sa.DateTime(), nullable=True),
        sa.Column('ucon_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('ucon_usercontactid', name=op.f('pk_usercontacts'))
        )
        with op.batch_alter_table('usercontacts', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_usercontacts_ucon_personid'), ['ucon_personid'], unique=False)
            batch_op.create_index(batch_op.f('ix_usercontacts_ucon_updateddate'), ['ucon_updateddate'], unique=False)
            batch_op.create_index(batch_op.f('ix_usercontacts_ucon_userid'), ['ucon_userid'], unique=False)
        op.create_table('users',
        sa.Column('user_userid', sa.Integer(), nullable=False),
        sa.Column('user_logon', sa.String(length=64), nullable=False),
        sa.Column('user_firstname', sa.String(length=60), nullable=True),
        sa.Column('user_lastname', sa.String(length=60), nullable=True),
        sa.Column('user_emailaddress', sa.String(length=255), nullable=True),
        sa.Column('user_createdby', sa.Integer(), nullable=True),
        sa.Column('user_createddate', sa.DateTime(), nullable=True),
        sa.Column('user_updatedby', sa.Integer(), nullable=True),
        sa.Column('user_updateddate', sa.DateTime(), nullable=True),
        sa.Column('user_timestamp', sa.DateTime(), nullable=True),
        sa.Column('user_deleted', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('user_userid', name=op.f('pk_users')),
        sa.UniqueConstraint('user_logon', name=op.f('uq_users_user_logon'))
        )
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.create_index(batch_op.f('ix_users_user_updateddate'), ['user_updateddate'], unique=False)
    op.create_table('crmsync_api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_api_key')),
    sa.UniqueConstraint('secret_sha256', name=op.f('uq_crmsync_api_key_secret_sha256'))
    )
    with op.batch_alter_table('crmsync_api_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_api_key_user_id'), ['user_id'], unique=False)
    op.create_table('crmsync_settings',
    sa.Column('scope', sa.String(length=32), nullable=False),
    sa.Column('values', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_crmsync_settings'))
    )
    op.create_table('crmsync_sync_user',
    sa.Column('user_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('mailbox', sa.String(length=320), nullable=False),
    sa.Column('ews_url', sa.String(length=2048), nullable=False),
    sa.Column('auth_type', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=320), nullable=True),
    sa.Column('secret_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('impersonation', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('suspended_reason', sa.Text(), nullable=True),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=True),
    sa.Column('show_install_button', sa.Boolean(), nullable=False),
    sa.Column('next_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_crmsync_sync_user')),
    sa.UniqueConstraint('mailbox', name=op.f('uq_crmsync_sync_user_mailbox'))
    )
    with op.batch_alter_table('crmsync_sync_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_sync_user_next_sync_at'), ['next_sync_at'], unique=False)
    op.create_table('crmsync_sync_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('deletions_held', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['crmsync_sync_user.user_id'], name=op.f('fk_crmsync_sync_run_user_id_crmsync_sync_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_sync_run'))
    )
    with op.batch_alter_table('crmsync_sync_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_sync_run_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_sync_run_user_id'), ['user_id'], unique=False)
    op.create_table('crmsync_run_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('entity', sa.String(length=16), nullable=True),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('direction', sa.String(length=16), nullable=True),
    sa.Column('crm_id', sa.String(length=64), nullable=True),
    sa.Column('remote_id', sa.String(length=512), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['crmsync_sync_run.id'], name=op.f('fk_crmsync_run_entry_run_id_crmsync_sync_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crmsync_run_entry'))
    )
    with op.batch_alter_table('crmsync_run_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crmsync_run_entry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_run_entry_entity'), ['entity'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_run_entry_level'), ['level'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_run_entry_run_id'), ['run_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_crmsync_run_entry_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('crmsync_run_entry')
    op.drop_table('crmsync_sync_run')
    op.drop_table('crmsync_sync_user')
    op.drop_table('crmsync_settings')
    op.drop_table('crmsync_api_key')
    if _crm_tables_here():
        op.drop_table('users')
        op.drop_table('usercontacts')
        op.drop_table('phonelink')
        op.drop_table('phone')
        op.drop_table('person')
        op.drop_table('opportunity')
        op.drop_table('library')
        op.drop_table('emaillink')
        op.drop_table('email')
        op.drop_table('company')
        op.drop_table('communication')
        op.drop_table('comm_link')
        op.drop_table('cases')
        op.drop_table('address_link')
        op.drop_table('address')
