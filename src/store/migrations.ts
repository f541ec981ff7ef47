// Versioned migrations, applied in one transaction under an advisory lock so several processes
// starting at once serialise: the first applies, the others find nothing left to do. Migration 1
// adopts an upstream Kindler database in place: the upstream `clusters` table keeps its columns
// and types; ours are added beside them, nullable or defaulted.

import { LATER, type Migration } from './migrations-later.js';

export type { Migration };

export const MIGRATIONS: Migration[] = [
  {
    version: '001_kindler_schema',
    statements: [
      // Upstream DDL (scripts/init_database.sh), exactly.
      `create table if not exists clusters (
        name varchar(63) primary key,
        provider varchar(10) not null check (provider in ('k3d', 'kind')),
        subnet cidr,
        node_port int not null,
        pf_port int not null,
        http_port int not null,
        https_port int not null,
        server_ip varchar(45),
        created_at timestamp default current_timestamp,
        updated_at timestamp default current_timestamp
      )`,
      'alter table clusters add column if not exists server_ip varchar(45)',
      'create index if not exists idx_clusters_provider on clusters(provider)',
      'create index if not exists idx_clusters_created_at on clusters(created_at)',
      // Ours. Rows adopted from upstream are running environments: status ready.
      `alter table clusters add column if not exists status varchar(20) not null default 'ready'`,
      'alter table clusters add column if not exists register_portainer boolean ' +
        'not null default true',
      'alter table clusters add column if not exists haproxy_route boolean not null default true',
      'alter table clusters add column if not exists requested_by text',
      'alter table clusters add column if not exists source_url text',
      'alter table clusters add column if not exists expires_at timestamptz',
      'alter table clusters add column if not exists pinned boolean not null default false',
      `alter table clusters add column if not exists labels jsonb not null default '{}'::jsonb`,
      // The allocator's guarantees, enforced by the database too.
      'create unique index if not exists clusters_http_port_key on clusters(http_port)',
      'create unique index if not exists clusters_https_port_key on clusters(https_port)',
      'create unique index if not exists clusters_pf_port_key on clusters(pf_port)',
      'create unique index if not exists clusters_subnet_key on clusters(subnet) where ' +
        'subnet is not null',
      // k3d clusters all expose Traefik on the same NodePort inside their own cluster; kind's
      // differ.
      `create unique index if not exists clusters_kind_node_port_key on clusters(node_port) ` +
        `where provider = 'kind'`,

      // operations: the seed's columns (upstream ARCHITECTURE.md) without the cascading foreign
      // key — the history of an environment must outlive its row.
      `create table if not exists operations (
        id serial primary key,
        cluster_name varchar(63) not null,
        operation varchar(50) not null,
        status varchar(20) not null,
        log_output text,
        started_at timestamptz default current_timestamp,
        completed_at timestamptz,
        error_message text
      )`,
      'alter table operations drop constraint if exists operations_cluster_name_fkey',
      'alter table operations add column if not exists actor text',
      `alter table operations add column if not exists trigger_source varchar(20) not ` +
        `null default 'cli'`,
      'alter table operations add column if not exists trigger_url text',
      'alter table operations add column if not exists repo text',
      'alter table operations add column if not exists issue_number int',
      'alter table operations add column if not exists head_sha varchar(64)',
      'alter table operations add column if not exists current_step varchar(20)',
      'alter table operations add column if not exists failed_step varchar(20)',
      'alter table operations add column if not exists fix_command text',
      'alter table operations add column if not exists cancel_requested boolean not ' +
        'null default false',
      'alter table operations add column if not exists attempt int not null default 1',
      'alter table operations add column if not exists comment_id bigint',
      'alter table operations add column if not exists check_run_id bigint',
      'alter table operations add column if not exists lease_owner text',
      'alter table operations add column if not exists lease_expires_at timestamptz',
      'alter table operations add column if not exists updated_at timestamptz not ' +
        'null default now()',
      // One operation per environment at a time: the index is the lock.
      `create unique index if not exists operations_one_active on operations(cluster_name) ` +
        `where status in ('queued', 'running')`,
      'create index if not exists idx_operations_cluster on operations(cluster_name, id)',
      'create index if not exists idx_operations_status on operations(status)',
      `create table if not exists operation_steps (
        operation_id int not null references operations(id) on delete cascade,
        step varchar(20) not null,
        position int not null,
        status varchar(20) not null default 'pending',
        started_at timestamptz,
        completed_at timestamptz,
        detail text,
        error text,
        primary key (operation_id, step)
      )`,
      `create table if not exists webhook_deliveries (
        id text primary key,
        event text not null,
        received_at timestamptz not null default now()
      )`,
      `create table if not exists kindler_state (
        key text primary key,
        value jsonb not null,
        updated_at timestamptz not null default now()
      )`,
    ],
  },
  {
    version: '002_clusters_insertion_order',
    statements: [
      // created_at ties when rows are added within one clock tick (PGlite's clock counts
      // milliseconds): the order rows were added in breaks the tie, so exports keep the CSV's
      // order.
      'alter table clusters add column if not exists seq bigserial',
    ],
  },
  {
    version: '003_github_writes',
    statements: [
      // The outbox: every write to GitHub (see github/outbox.ts). `wanted` counts the times a
      // write was asked for, `delivered` the ones written; a row whose lease expired with
      // delivered < wanted is delivered again by the next pass, so nothing asked for is lost.
      `create table if not exists github_writes (
        id bigserial primary key,
        key text not null unique,
        repo text not null,
        kind text not null,
        operation_id bigint,
        request jsonb not null,
        external_id bigint,
        wanted integer not null default 1,
        delivered integer not null default 0,
        attempts integer not null default 0,
        state text not null default 'pending',
        error text,
        lease_owner text,
        lease_until timestamptz,
        next_attempt_at timestamptz not null default now(),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`,
      `create index if not exists github_writes_due on github_writes (next_attempt_at)
        where state = 'pending'`,
    ],
  },
  {
    version: '004_github_writes_by_operation',
    statements: [
      // An operation's end marks its reports (Store.updateOperation): found by the operation.
      'create index if not exists github_writes_operation on github_writes (operation_id)',
    ],
  },
  {
    version: '005_pull_request_deploys',
    statements: [
      // Where a pull-request environment's branch is rendered from, and what it holds since when.
      'alter table clusters add column if not exists source_repo text',
      'alter table clusters add column if not exists source_sha varchar(40)',
      'alter table clusters add column if not exists source_actor text',
      'alter table clusters add column if not exists deployed_sha varchar(40)',
      'alter table clusters add column if not exists deployed_tree varchar(40)',
      'alter table clusters add column if not exists deployed_at timestamptz',
      // The GitHub Deployment an operation reports to.
      'alter table operations add column if not exists deployment_id bigint',
      'alter table operations add column if not exists deployment_state varchar(20)',
      // Git objects read from GitHub, by id: what an id names never changes, so it is read once.
      `create table if not exists git_objects (
        id text primary key,
        body text not null,
        used_at timestamptz not null default now()
      )`,
    ],
  },
  {
    version: '006_live_events',
    statements: [
      // Every change of an operation, a step or an environment is announced on kindler_events,
      // whichever process makes it (a replica, the CLI): the console's live pages listen.
      `create or replace function kindler_notify() returns trigger language plpgsql as $$
      begin
        -- Only what a reader sees changes: a lease renewed or an id recorded is not news.
        if tg_table_name = 'operations' then
          if tg_op = 'UPDATE' then
            if new.status is not distinct from old.status
                and new.current_step is not distinct from old.current_step
                and new.cancel_requested = old.cancel_requested then
              return null;
            end if;
          end if;
          perform pg_notify('kindler_events', json_build_object('type', 'operation',
            'operation', new.id, 'env', new.cluster_name, 'kind', new.operation,
            'status', new.status, 'step', new.current_step)::text);
        elsif tg_table_name = 'operation_steps' then
          if tg_op = 'UPDATE' then
            if new.status is not distinct from old.status then
              return null;
            end if;
          end if;
          perform pg_notify('kindler_events', json_build_object('type', 'step',
            'operation', new.operation_id, 'step', new.step, 'status', new.status,
            'env', (select cluster_name from operations where id = new.operation_id))::text);
        elsif tg_op = 'DELETE' then
          perform pg_notify('kindler_events', json_build_object('type', 'environment',
            'env', old.name, 'status', null)::text);
        else
          if tg_op = 'UPDATE' then
            if new.status is not distinct from old.status then
              return null;
            end if;
          end if;
          perform pg_notify('kindler_events', json_build_object('type', 'environment',
            'env', new.name, 'status', new.status)::text);
        end if;
        return null;
      end $$`,
      'drop trigger if exists kindler_operations_notify on operations',
      `create trigger kindler_operations_notify after insert or update on operations
        for each row execute function kindler_notify()`,
      'drop trigger if exists kindler_steps_notify on operation_steps',
      `create trigger kindler_steps_notify after insert or update on operation_steps
        for each row execute function kindler_notify()`,
      'drop trigger if exists kindler_clusters_notify on clusters',
      `create trigger kindler_clusters_notify after insert or update or delete on clusters
        for each row execute function kindler_notify()`,
    ],
  },
  ...LATER,
];

export const LATEST_VERSION = MIGRATIONS.at(-1)?.version ?? '';
