// The devops side as one list, for every surface that builds it (the CLI's `kindler bootstrap`,
// the setup page's button): the pieces in order, and the context they run in over the runtime.
import { bootstrapSettings } from '../config/devops-env.js';
import type { Runtime } from '../runtime.js';
import { ArgoCdInstall } from './argocd-install.js';
import { DevopsCluster } from './devops-cluster.js';
import { HaproxyContainer } from './haproxy-container.js';
import type { BootstrapContext, Piece } from './piece.js';
import { PortainerContainer } from './portainer-container.js';
import { writeSettings } from './run-bootstrap.js';

export type BootstrapDeps = Pick<Runtime, 'config' | 'argoStep'>;

export const devopsPieces = (rt: BootstrapDeps): Piece[] => [
  new DevopsCluster(),
  new ArgoCdInstall((devops) => rt.argoStep(devops)),
  new HaproxyContainer(),
  new PortainerContainer(),
];

export const bootstrapContext = (
  rt: BootstrapDeps,
  env: NodeJS.ProcessEnv,
  note: (line: string) => void,
  signal?: AbortSignal,
): BootstrapContext => {
  const settings = bootstrapSettings(rt.config.dataDir);
  return {
    config: rt.config,
    settings,
    save: () => writeSettings(rt.config.dataDir, settings),
    note,
    env,
    ...(signal ? { signal } : {}),
  };
};
