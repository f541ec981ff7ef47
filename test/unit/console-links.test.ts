// The console's links to an environment's pages in Portainer and Argo CD.
import { describe, expect, it } from 'vitest';
import type { Operation } from '../../src/domain/index.js';
import { systemLinks } from '../../src/web/links.js';

const op = (detail: string | null, status: 'done' | 'skipped' = 'done') =>
  ({ steps: [{ step: 'portainer', status, detail }] }) as unknown as Operation;

describe('links to the other systems', () => {
  it('names the Portainer environment the step recorded, and the Argo CD Application', () => {
    const links = systemLinks({
      portainerUrl: 'https://portainer.example.test:9443/',
      argocdUrl: 'https://argocd.example.test',
      argocdNamespace: 'argocd',
    });
    expect(
      links('dev', [op('Edge environment created (#7); agent deployed in portainer')]),
    ).toEqual([
      { label: 'Portainer', url: 'https://portainer.example.test:9443/#!/7/kubernetes/dashboard' },
      { label: 'Argo CD', url: 'https://argocd.example.test/applications/argocd/whoami-dev' },
    ]);
  });

  it('links nothing it does not know: no id recorded, or the systems not configured', () => {
    expect(
      systemLinks({ portainerUrl: 'https://p.test', argocdNamespace: 'argocd' })('dev', [
        op('skipped: register_portainer is false', 'skipped'),
      ]),
    ).toEqual([]);
    expect(systemLinks({ argocdNamespace: 'argocd' })('dev', [op('created (#7)')])).toEqual([]);
  });
});
