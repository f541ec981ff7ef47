// Every row's allocation and no more: what the CSV snapshot and the gateway render are made from.
// Read by one narrow query whose columns are already the record's fields (nothing mapped per row),
// so rendering 10,000 routes or a 10,000-line snapshot costs the rows, not the whole table.
import type { Queryable } from './db.js';
import type { RoutedRecord } from './environment-store.js';

export function listRecords(db: Queryable): Promise<RoutedRecord[]> {
  return db.query<RoutedRecord>(
    `select name, provider, subnet::text as subnet, node_port as "nodePort",
            pf_port as "pfPort", http_port as "httpPort", https_port as "httpsPort",
            register_portainer as "registerPortainer", haproxy_route as "haproxyRoute",
            server_ip as "serverIp", site
       from clusters order by (name = 'devops') desc, created_at, seq`,
  );
}
