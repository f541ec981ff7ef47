// The embedded database is one process's at a time: PGlite keeps the whole database in the
// process that opened it, so a second process opening the same directory works on a copy that the
// first one overwrites (the server and a CLI call side by side disagreed, then lost rows). A lock
// file beside the data, taken with an exclusive create, says who holds it; a lock left by a process
// that died on this machine is taken over.
import { z } from 'zod';
import fs from 'node:fs';
import path from 'node:path';
import { Failure } from '../domain/index.js';
import { machineId, ownerAlive, processTag } from '../system/owner.js';

const LOCK = 'kindler.lock';

/** The lock file's holder; what an older or half-written file lacks reads as unknown. */
const Holder = z.object({
  pid: z.number(),
  /** `pid@start` (system/owner.ts): absent from a file an older version wrote. */
  process: z.string().optional(),
  host: z.string(),
  command: z.string().catch('unknown'),
  since: z.string().catch('unknown'),
});
type Holder = z.output<typeof Holder>;

export interface DataLock {
  release(): void;
}

/** Takes the lock of `dir`, or refuses (Failure 'degraded') naming the process that holds it. */
export function lockDataDir(dir: string): DataLock {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  const me: Holder = {
    pid: process.pid,
    process: processTag(),
    host: machineId(),
    command: path.basename(process.argv[1] ?? 'node'),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole, then linked into place: whoever finds the lock finds who holds it.
    const draft = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(draft, JSON.stringify(me));
    try {
      fs.linkSync(draft, file);
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        process.removeListener('exit', release);
        try {
          const current = readHolder(file);
          if (current?.pid === me.pid && current.host === me.host) fs.rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      fs.rmSync(draft, { force: true });
    }
    const holder = readHolder(file);
    if (holder && ownerAlive(`lock:${holder.host}:${holder.process ?? holder.pid}`))
      throw new Failure(
        'degraded',
        `the embedded database in ${dir} is in use by another ` +
          `kindler process (pid ${holder.pid} on ${holder.host}, ${holder.command}, ` +
          `since ${holder.since}); two processes on one embedded database lose data. To ` +
          `resolve, stop that process, or leave KINDLER_DB unset (the embedded PostgreSQL, ` +
          `which the server and any number of CLI calls share) or set DATABASE_URL`,
      );
    // Its holder is gone (or the file is unreadable half-written debris): take it over.
    fs.rmSync(file, { force: true });
  }
  throw new Failure('degraded', `could not take the lock of the embedded database in ${dir}`);
}

function readHolder(file: string): Holder | null {
  try {
    return Holder.safeParse(JSON.parse(fs.readFileSync(file, 'utf8'))).data ?? null;
  } catch {
    return null;
  }
}
