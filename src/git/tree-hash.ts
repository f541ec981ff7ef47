// Git object ids computed here, so a branch's content is compared by one hash per branch instead of
// reading its files: the blob id of a file, and the id of the tree a set of files makes.
import crypto from 'node:crypto';
import type { BranchFile } from './branch-store.js';

const sha1 = (type: string, body: Buffer): Buffer =>
  crypto.createHash('sha1').update(`${type} ${body.length}\0`).update(body).digest();

export const blobSha = (content: string): string =>
  sha1('blob', Buffer.from(content, 'utf8')).toString('hex');

type Dir = Map<string, Dir | string>;

/**
 * The tree id git gives the directory `prefix` holding exactly `files` (paths include the prefix),
 * every file a regular 100644 blob — what `git rev-parse <commit>:<prefix>` prints.
 */
export function treeSha(files: BranchFile[], prefix: string): string {
  const root: Dir = new Map();
  for (const file of files) {
    if (!file.path.startsWith(prefix)) throw new Error(`${file.path} is outside ${prefix}`);
    const parts = file.path.slice(prefix.length).split('/');
    let dir = root;
    for (const part of parts.slice(0, -1)) {
      if (!dir.has(part)) dir.set(part, new Map());
      dir = dir.get(part) as Dir;
    }
    dir.set(parts.at(-1) as string, file.content);
  }
  return hashDir(root).toString('hex');
}

function hashDir(dir: Dir): Buffer {
  // Git orders entries by name, a directory as if its name ended with "/".
  const entries = [...dir]
    .map(([name, child]) => ({ name, child, key: typeof child === 'string' ? name : `${name}/` }))
    .sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  const body = Buffer.concat(
    entries.map(({ name, child }) => {
      const [mode, id] =
        typeof child === 'string'
          ? ['100644', sha1('blob', Buffer.from(child, 'utf8'))]
          : ['40000', hashDir(child)];
      return Buffer.concat([Buffer.from(`${mode} ${name}\0`), id]);
    }),
  );
  return sha1('tree', body);
}
