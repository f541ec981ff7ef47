// An environment's pages in the other systems' web UIs, for the console: its Portainer
// environment (the id the portainer step recorded, "… (#7) …") and its Argo CD Application.
import { argoApplicationName, type Operation } from '../domain/index.js';

export function systemLinks(settings: {
  portainerUrl?: string | undefined;
  argocdUrl?: string | undefined;
  argocdNamespace: string;
}) {
  return (name: string, operations: Operation[]): { label: string; url: string }[] => {
    const links: { label: string; url: string }[] = [];
    const id = operations
      .flatMap((op) => op.steps)
      .find((s) => s.step === 'portainer' && s.status === 'done')
      ?.detail?.match(/\(#(\d+)\)/)?.[1];
    if (settings.portainerUrl && id)
      links.push({
        label: 'Portainer',
        url: `${settings.portainerUrl.replace(/\/+$/, '')}/#!/${id}/kubernetes/dashboard`,
      });
    if (settings.argocdUrl)
      links.push({
        label: 'Argo CD',
        url: [
          settings.argocdUrl,
          'applications',
          settings.argocdNamespace,
          argoApplicationName(name),
        ].join('/'),
      });
    return links;
  };
}
