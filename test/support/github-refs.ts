// GitHub's GraphQL `refs` connection over a fixed list of branches, as the branch store queries it:
// the aliases `asc` and `desc` (ALPHABETICAL ascending and descending), `first` ≤ 100, `after` an
// opaque cursor, `totalCount`. For nock: `.post('/graphql').reply(200, server.reply)`.
import { Kind, parse, print, visit, type FieldNode } from 'graphql';

/** The `refs` field aliased `alias` in the query, read as GitHub's parser reads it. */
function refsField(query: string, alias: string): FieldNode | undefined {
  let found: FieldNode | undefined;
  visit(parse(query), {
    [Kind.FIELD](node: FieldNode) {
      if (node.alias?.value === alias && node.name.value === 'refs') found = node;
    },
  });
  return found;
}

export interface RefNode {
  name: string;
  target: { oid: string; file?: { oid: string } | null };
}

export function refsServer(nodes: RefNode[]) {
  const sorted = [...nodes].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const server = {
    calls: 0,
    // nock 15 calls a reply function with the request (a fetch Request).
    reply: async (request: Request) => {
      server.calls++;
      const { query, variables } = (await request.json()) as {
        query: string;
        variables: Record<string, string | null>;
      };
      const connection = (alias: 'asc' | 'desc') => {
        const field = refsField(query, alias);
        if (!field) throw new Error(`the query has no ${alias} connection: ${query}`);
        const args = Object.fromEntries(
          (field.arguments ?? []).map((a) => [a.name.value, print(a.value)]),
        );
        if (
          args.refPrefix !== '"refs/heads/"' ||
          args.after !== `$${alias}` ||
          args.orderBy !== `{ field: ALPHABETICAL, direction: ${alias.toUpperCase()} }`
        )
          throw new Error(`the ${alias} connection is not the branch store's: ${print(field)}`);
        const first = Number(args.first);
        if (first > 100) throw new Error('GitHub caps `first` at 100');
        const order = alias === 'asc' ? sorted : [...sorted].reverse();
        const cursor = variables[alias];
        const start = cursor ? Number(Buffer.from(cursor, 'base64').toString().split(':')[1]) : 0;
        const end = Math.min(order.length, start + first);
        return {
          totalCount: sorted.length,
          pageInfo: {
            hasNextPage: end < order.length,
            endCursor: end > start ? Buffer.from(`${alias}:${end}`).toString('base64') : null,
          },
          nodes: order
            .slice(start, end)
            .map((n) =>
              query.includes('file(path:') ? n : { name: n.name, target: { oid: n.target.oid } },
            ),
        };
      };
      return { data: { repository: { asc: connection('asc'), desc: connection('desc') } } };
    },
  };
  return server;
}
