// What a prune would remove: each orphan's system, the step that removes it, and how the action
// is described.
import type { SystemStep } from '../lifecycle/step.js';
import { deleteClusterCommand } from '../providers/cluster-view.js';
import { type Discrepancy } from './compare.js';

/** Clusters first (registrations point at them), the branch last — as a delete does. */
export const PRUNE_ORDER: Discrepancy['system'][] = [
  'k3d',
  'kind',
  'portainer',
  'argocd',
  'haproxy',
  'git',
];

export const PRUNE_STEP: Record<Discrepancy['system'], SystemStep> = {
  git: 'branch',
  k3d: 'cluster',
  kind: 'cluster',
  portainer: 'portainer',
  argocd: 'argocd',
  haproxy: 'haproxy',
};

export function describe(d: Discrepancy, archiveAs: string): string {
  switch (d.system) {
    case 'git':
      return `archive branch "${d.name}" as "${archiveAs}", then delete it`;
    case 'k3d':
    case 'kind':
      return `delete ${d.system} cluster "${d.name}" (${deleteClusterCommand(d.system, d.name)})`;
    case 'portainer':
      return `delete Portainer environment "${d.name}"`;
    case 'argocd':
      return `delete Argo CD cluster secret of "${d.name}"`;
    case 'haproxy':
      return `remove HAProxy route for "${d.name}"`;
  }
}
