-- One-time Snowflake setup for the heart-rate warehouse, in the order that keeps personal data protected
-- before any of it lands. Run top to bottom as a user holding ACCOUNTADMIN (each step switches to the
-- least role that can do it). Replace the <...> public keys; names match .env.example and docs/production.md.
--
-- Where personal data goes, and who can read it:
--   raw_oltp  the OLTP CDC connection's destination (Airbyte namespace "raw_oltp"): users with names,
--             addresses and birth dates. Readable by LOADER (writes it) and PII_READER only; it exists, with
--             those grants only, before the first sync, so there is no moment when anyone else can read it.
--   raw       the lake stream tables (no personal data) and two views over raw_oltp that dbt reads as its
--             raw.users / raw.activities sources: every column except names and addresses. The birth date
--             passes (age bands at each reading need it) and stays in the transformer's intermediate schema.
--   core, serving   no names, addresses or birth dates (dim_users has bands, regions, BMI).
-- Checked by tests/integration/test_snowflake_rendering.py: every statement parses as Snowflake SQL and the
-- views expose exactly the raw contract's columns without include.contracts.raw_schema.PII_COLUMNS.

-- 1. Roles ------------------------------------------------------------------------------------------------
use role useradmin;
create role if not exists loader;        -- Airbyte: writes raw, raw_oltp, airbyte_internal
create role if not exists transformer;   -- Airflow (dbt, the gate): reads raw, owns every schema dbt builds
create role if not exists researcher;    -- Tableau and analysts: read serving only
create role if not exists pii_reader;    -- the few who may see names, addresses, birth dates
create role if not exists governor;      -- owns the PII views; grants read on them

use role securityadmin;
grant role loader to role sysadmin;
grant role transformer to role sysadmin;
grant role researcher to role sysadmin;
grant role pii_reader to role sysadmin;
grant role governor to role sysadmin;

-- 2. Warehouses, database and the schemas data lands in (before any connection exists) --------------------
use role sysadmin;
create warehouse if not exists loading warehouse_size = xsmall auto_suspend = 60 auto_resume = true
    initially_suspended = true;
create warehouse if not exists transforming warehouse_size = small auto_suspend = 60 auto_resume = true
    initially_suspended = true;
create warehouse if not exists reporting warehouse_size = xsmall auto_suspend = 60 auto_resume = true
    initially_suspended = true;
create database if not exists heart_rate;
create schema if not exists heart_rate.raw;
create schema if not exists heart_rate.raw_oltp with managed access;   -- grants only by its owner
create schema if not exists heart_rate.airbyte_internal;              -- Airbyte's own state and staging

-- 3. Grants, so that only LOADER and PII_READER can ever read raw_oltp ---------------------------------------
use role securityadmin;
grant usage on warehouse loading to role loader;
grant usage on warehouse transforming to role transformer;
grant usage on warehouse reporting to role researcher;
grant usage on warehouse reporting to role pii_reader;
grant usage on database heart_rate to role loader;
grant usage on database heart_rate to role transformer;
grant usage on database heart_rate to role researcher;
grant usage on database heart_rate to role pii_reader;
grant usage on database heart_rate to role governor;

-- Airbyte's Snowflake destination creates, alters and swaps its tables: it owns the schemas it writes.
grant ownership on schema heart_rate.raw to role loader copy current grants;
grant ownership on schema heart_rate.airbyte_internal to role loader copy current grants;
grant usage, create table, create stage on schema heart_rate.raw_oltp to role loader;  -- it owns what it creates
grant create schema on database heart_rate to role loader;  -- its connection check may ask to create its schemas
grant usage on schema heart_rate.raw_oltp to role pii_reader;
grant select on future tables in schema heart_rate.raw_oltp to role pii_reader;
grant usage on schema heart_rate.raw_oltp to role governor;
grant select on future tables in schema heart_rate.raw_oltp to role governor;

-- dbt (as transformer) reads raw and creates its own schemas: staging, intermediate, core, quality, serving,
-- reference (seeds); the gate's ledger lives in quality.
grant usage on schema heart_rate.raw to role transformer;
grant select on future tables in schema heart_rate.raw to role transformer;
grant select on future views in schema heart_rate.raw to role transformer;
grant create schema on database heart_rate to role transformer;
grant create view on schema heart_rate.raw to role governor;

-- 4. Service users: key pairs only, sessions in UTC (dbt's models also set it; see dbt/macros/session.sql) ---
use role useradmin;
create user if not exists airbyte_loader type = service default_role = loader default_warehouse = loading
    rsa_public_key = '<airbyte public key>';
create user if not exists airflow_dbt type = service default_role = transformer
    default_warehouse = transforming rsa_public_key = '<airflow public key>';
create user if not exists tableau_reader type = service default_role = researcher
    default_warehouse = reporting rsa_public_key = '<tableau public key>';
alter user airbyte_loader set timezone = 'UTC';
alter user airflow_dbt set timezone = 'UTC';
alter user tableau_reader set timezone = 'UTC';

use role securityadmin;
grant role loader to user airbyte_loader;
grant role transformer to user airflow_dbt;
grant role researcher to user tableau_reader;

-- 5. After the OLTP connection's first sync (raw_oltp.users and raw_oltp.activities exist): the views dbt
--    reads. Until then the hourly transform fails on the missing sources, and nothing personal is readable.
use role governor;
create or replace secure view heart_rate.raw.users as
select
    _airbyte_raw_id,
    _airbyte_extracted_at,
    _airbyte_meta,
    _ab_cdc_lsn,
    _ab_cdc_updated_at,
    _ab_cdc_deleted_at,
    user_id,
    date_of_birth,
    sex,
    height,
    weight,
    blood_type,
    race,
    origin_country_code,
    origin_country_name,
    address_country_code,
    address_country_name,
    last_update
from heart_rate.raw_oltp.users;

create or replace secure view heart_rate.raw.activities as
select
    _airbyte_raw_id,
    _airbyte_extracted_at,
    _airbyte_meta,
    _ab_cdc_lsn,
    _ab_cdc_updated_at,
    _ab_cdc_deleted_at,
    activity_id,
    activity_name,
    last_update
from heart_rate.raw_oltp.activities;

grant select on view heart_rate.raw.users to role transformer;
grant select on view heart_rate.raw.activities to role transformer;

-- 6. Serving for researchers (after dbt's first run has created the schema) -----------------------------------
use role securityadmin;
grant usage on schema heart_rate.serving to role researcher;
grant select on all tables in schema heart_rate.serving to role researcher;
grant select on future tables in schema heart_rate.serving to role researcher;
grant select on all views in schema heart_rate.serving to role researcher;
grant select on future views in schema heart_rate.serving to role researcher;
