// A running process's sites follow the config repository's declaration: on hearing `sites` (or,
// after listening was lost, `resync`) it reads what is kept and, when that differs from what it
// uses, replaces its sites (runtime-sites.ts). A declaration it cannot use is logged, and it goes
// on with the sites it had. The process that declared hears its own announcement too.
import { messageOf } from '../domain/index.js';
import type { Runtime } from '../runtime.js';
import { knownSites } from '../store/declared-sites.js';

export async function watchSites(
  rt: Pick<Runtime, 'config' | 'store' | 'log' | 'useSites' | 'sitesDiffer'>,
): Promise<() => Promise<void>> {
  // KINDLER_SITES is the one source while it is set: nothing to follow.
  if (rt.config.KINDLER_SITES) return async () => undefined;
  let reading: Promise<void> | null = null;
  let again = false;
  const read = async (): Promise<void> => {
    do {
      again = false;
      try {
        const known = await knownSites(rt.config, rt.store);
        if (!rt.sitesDiffer(known)) continue;
        rt.useSites(known);
        rt.log.info(
          { sites: known.sites.map((s) => s.name), source: known.source },
          `sites now: ${known.sites.map((s) => s.name).join(', ')}`,
        );
      } catch (error) {
        rt.log.error({ err: error }, `the declared sites are not used: ${messageOf(error)}`);
      }
    } while (again);
  };
  const hear = () => {
    // One read at a time; an announcement heard meanwhile reads once more after it.
    if (reading) again = true;
    else reading = read().finally(() => (reading = null));
  };
  let stop: () => Promise<void>;
  try {
    stop = await rt.store.events((event) => {
      if (event.type === 'sites' || event.type === 'resync') hear();
    });
  } catch (error) {
    rt.log.warn(
      { err: error },
      `sites declared from now on are used after a restart: ${messageOf(error)}`,
    );
    return async () => undefined;
  }
  // What was declared between this process's start and its listening.
  hear();
  return async () => {
    await stop();
    await reading;
  };
}
