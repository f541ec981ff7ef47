// Migrations from 007 on (migrations.ts applies them after its own, in order).

export interface Migration {
  version: string;
  statements: string[];
}

/**
 * The tables the console reads, whose writes the read cache is told of (016, 017), each with the
 * columns nobody is shown: a write that changes only those (a lease renewed, a turn claimed) is
 * not news.
 */
const CHANGED_TABLES: Record<string, string[]> = {
  clusters: ['updated_at'],
  operations: ['lease_expires_at', 'updated_at'],
  operation_steps: [],
  environment_versions: [],
  github_writes: ['lease_owner', 'lease_until', 'attempts', 'updated_at'],
  kindler_state: ['updated_at'],
  batches: [],
};

export const LATER: Migration[] = [
  {
    version: '007_console_sessions',
    statements: [
      // Signed-in browsers: by the hash of the cookie's value (the value itself is never stored),
      // with the CSRF token every change they send must carry. Shared by replicas, kept across
      // restarts, gone at sign-out or expiry.
      `create table if not exists console_sessions (
        id_hash text primary key,
        login text not null,
        via text not null,
        csrf text not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null
      )`,
    ],
  },
  {
    version: '008_actor_via',
    statements: [
      // How an operation's actor was established (github, token, cli): the local operator's token
      // is never mistaken for a GitHub account of the same name.
      'alter table operations add column if not exists actor_via text',
    ],
  },
  {
    version: '009_github_limits',
    statements: [
      // GitHub's limits per account, kept for every process: the next turn to write, and until
      // when GitHub asked for no writes at all (retry-after, x-ratelimit-reset).
      `create table if not exists github_limits (
        scope text primary key,
        next_write_at timestamptz not null,
        blocked_until timestamptz
      )`,
      // Pruned by age on the queue's schedule.
      'create index if not exists webhook_deliveries_received on webhook_deliveries (received_at)',
      'create index if not exists github_writes_finished on github_writes (state, updated_at)',
    ],
  },
  {
    version: '010_notifications',
    statements: [
      // Alerts for KINDLER_NOTIFY_URL, one per key (a change of state), kept until delivered.
      `create table if not exists notifications (
        key text primary key,
        payload jsonb not null,
        created_at timestamptz not null default now(),
        attempts int not null default 0,
        next_at timestamptz not null default now(),
        lease_until timestamptz,
        sent_at timestamptz,
        last_error text
      )`,
      'create index if not exists notifications_due on notifications (next_at) ' +
        'where sent_at is null',
    ],
  },
  {
    version: '011_environment_versions',
    statements: [
      // Every change of an environment's configuration, append-only (store/versions.ts).
      `create table if not exists environment_versions (
        env_name text not null,
        version int not null,
        at timestamptz not null default now(),
        actor text,
        actor_via text,
        source text not null,
        operation_id int,
        config jsonb not null,
        primary key (env_name, version)
      )`,
    ],
  },
  {
    version: '012_update',
    statements: [
      // The nodes of an environment's cluster (k3d servers/agents, kind control-plane/workers).
      'alter table clusters add column if not exists servers int not null default 1',
      'alter table clusters add column if not exists agents int not null default 0',
      // An update's configuration before and after: its steps' actions are derived from it.
      'alter table operations add column if not exists change jsonb',
    ],
  },
  {
    version: '013_batches',
    statements: [
      // A batch: the environments a label selected for one verb, previewed, then confirmed once
      // and carried out a few at a time (store/batches.ts). `items` holds each name's outcome.
      `create table if not exists batches (
        id text primary key,
        verb text not null,
        labels jsonb not null,
        duration_ms bigint,
        items jsonb not null,
        previewed_at timestamptz not null,
        previewed_by text,
        confirmed_at timestamptz,
        trigger jsonb,
        parallel int not null default 1,
        finished_at timestamptz
      )`,
      'create index if not exists batches_open on batches (confirmed_at) ' +
        'where confirmed_at is not null and finished_at is null',
    ],
  },
  {
    version: '014_sites',
    statements: [
      // The Docker host (config/sites.ts) an environment's cluster runs on; ports, subnets and
      // kind's node ports are unique per host, so each site allocates from its own ranges.
      `alter table clusters add column if not exists site text not null default 'local'`,
      'drop index if exists clusters_http_port_key',
      'drop index if exists clusters_https_port_key',
      'drop index if exists clusters_pf_port_key',
      'drop index if exists clusters_subnet_key',
      'drop index if exists clusters_kind_node_port_key',
      'create unique index if not exists clusters_site_http_port_key on clusters(site, http_port)',
      'create unique index if not exists clusters_site_https_port_key ' +
        'on clusters(site, https_port)',
      'create unique index if not exists clusters_site_pf_port_key on clusters(site, pf_port)',
      'create unique index if not exists clusters_site_subnet_key on clusters(site, subnet) ' +
        'where subnet is not null',
      `create unique index if not exists clusters_site_kind_node_port_key ` +
        `on clusters(site, node_port) where provider = 'kind'`,
    ],
  },
  {
    version: '015_node_size',
    statements: [
      // What each node of an environment's cluster may use (docker update --cpus/--memory; k3d's
      // --servers-memory/--agents-memory); null: no limit.
      'alter table clusters add column if not exists node_cpus numeric(5, 2)',
      'alter table clusters add column if not exists node_memory_mib int',
    ],
  },
  {
    version: '016_changed_events',
    statements: [
      // Any write to a table the console reads is announced (once per statement; PostgreSQL sends
      // a transaction's identical notifications once, at its commit): each process's read cache
      // forgets what it read before (store/read-cache.ts).
      `create or replace function kindler_changed() returns trigger language plpgsql as $$
      begin
        perform pg_notify('kindler_events', '{"type":"changed"}');
        return null;
      end $$`,
      ...Object.keys(CHANGED_TABLES).flatMap((t) => [
        `drop trigger if exists kindler_${t}_changed on ${t}`,
        `create trigger kindler_${t}_changed after insert or update or delete on ${t} ` +
          'for each statement execute function kindler_changed()',
      ]),
    ],
  },
  {
    version: '017_changed_rows',
    statements: [
      // 016 announced every statement, also one that changed no row (a poll that found nothing
      // due) or only a lease: every replica's polls and renewals emptied every read cache and
      // queued on PostgreSQL's one lock for committing notifications. Announced now: a row
      // inserted or deleted, or updated in a column someone is shown (store/read-cache.ts).
      ...Object.entries(CHANGED_TABLES).flatMap(([t, quiet]) => {
        const shown = (row: string) => `(to_jsonb(${row}) - '{${quiet.join(',')}}'::text[])`;
        return [
          `drop trigger if exists kindler_${t}_changed on ${t}`,
          `drop trigger if exists kindler_${t}_updated on ${t}`,
          `create trigger kindler_${t}_changed after insert or delete on ${t} ` +
            'for each row execute function kindler_changed()',
          `create trigger kindler_${t}_updated after update on ${t} for each row ` +
            `when (${shown('old')} is distinct from ${shown('new')}) ` +
            'execute function kindler_changed()',
        ];
      }),
    ],
  },
];
