-- OLTP schema for the heart-rate producer, ready for Airbyte's Postgres CDC source.
-- Run as-is on a production RDS (rds.logical_replication = 1 in the parameter group)
-- by a role with rds_replication (or REPLICATION) and CREATE on the database.
-- Idempotent: safe to run again.

create table if not exists users (
    user_id              integer primary key,
    first_name           text        not null,
    last_name            text        not null,
    date_of_birth        integer     not null check (date_of_birth between 19000101 and 21001231),
    sex                  char(1)     not null check (sex in ('M', 'F')),
    height               numeric(5,1) not null check (height between 50 and 272),
    weight               numeric(5,1) not null check (weight between 20 and 400),
    blood_type           text        not null check (blood_type in ('O+','O-','A+','A-','B+','B-','AB+','AB-')),
    race                 text        not null,
    origin_country_code  char(2)     not null,
    origin_country_name  text        not null,
    address              text        not null,
    address_country_code char(2)     not null,
    address_country_name text        not null,
    last_update          timestamptz not null default now()
);

create table if not exists activities (
    activity_id   integer primary key check (activity_id between 20001 and 20999),
    activity_name text        not null unique,
    last_update   timestamptz not null default now()
);

-- Updates and deletes are identified by the primary key in the change stream
-- (Airbyte's recommended setting for tables with a primary key).
alter table users replica identity default;
alter table activities replica identity default;

-- last_update is maintained by the database, whoever writes the row.
create or replace function touch_last_update() returns trigger language plpgsql as $$
begin
    new.last_update := now();
    return new;
end $$;

drop trigger if exists users_touch_last_update on users;
create trigger users_touch_last_update before update on users
    for each row execute function touch_last_update();
drop trigger if exists activities_touch_last_update on activities;
create trigger activities_touch_last_update before update on activities
    for each row execute function touch_last_update();

-- Airbyte CDC then needs a publication of both tables and a pgoutput slot. `python -m producer
-- seed-oltp` creates them right after this script, with the names of include/contracts/raw_schema.py
-- (airbyte_publication, airbyte_slot by default); docs/production.md shows the statements for a DBA.
