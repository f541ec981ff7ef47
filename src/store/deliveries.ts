// What the webhook intake and the Git service remember: deliveries already taken (a redelivery is
// recognised) and Git objects a deploy read (read again only when forgotten).
import type { Queryable } from './db.js';

export async function admitDelivery(
  db: Queryable,
  keys: string[],
  event: string,
): Promise<boolean> {
  const rows = await db.query(
    `insert into webhook_deliveries (id, event) select unnest($1::text[]), $2
     on conflict (id) do nothing returning id`,
    [keys, event],
  );
  return rows.length === new Set(keys).size;
}

export async function forgetDeliveries(db: Queryable, olderThanMs: number): Promise<number> {
  const rows = await db.query(
    `delete from webhook_deliveries
      where received_at < now() - make_interval(secs => $1::double precision / 1000) returning id`,
    [olderThanMs],
  );
  return rows.length;
}

export async function gitObjects(db: Queryable, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  // A read marks what it used for the prune (KINDLER_HISTORY_DAYS, a day at least), but only
  // rows not marked within the hour: a check reading 5,000 trees writes nothing when warm.
  const rows = await db.query<{ id: string; body: string }>(
    `with hit as (select id, body, used_at from git_objects where id = any($1::text[])),
          touched as (update git_objects g set used_at = now() from hit
                       where g.id = hit.id and hit.used_at < now() - interval '1 hour')
     select id, body from hit`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.body]));
}

export async function keepGitObjects(db: Queryable, objects: Map<string, string>): Promise<void> {
  if (!objects.size) return;
  await db.query(
    `insert into git_objects (id, body)
     select * from unnest($1::text[], $2::text[])
     on conflict (id) do update set used_at = now()`,
    [[...objects.keys()], [...objects.values()]],
  );
}
