// Branch contents: the files under templates/deploy rendered for one environment. Pure.
import { byText, Failure, whoamiHost, type Environment } from '../domain/index.js';

export interface TemplateFile {
  path: string;
  content: string;
}

export interface ManifestSettings {
  baseDomain: string;
  ingressClass: string;
}

export function templateVars(
  env: Pick<Environment, 'name' | 'provider'>,
  settings: ManifestSettings,
): Record<string, string> {
  return {
    KINDLER_ENV: env.name,
    KINDLER_PROVIDER: env.provider,
    KINDLER_BASE_DOMAIN: settings.baseDomain,
    KINDLER_HOST: whoamiHost(env.name, settings.baseDomain),
    KINDLER_INGRESS_CLASS: settings.ingressClass,
  };
}

export function renderBranchFiles(
  templates: TemplateFile[],
  vars: Record<string, string>,
): TemplateFile[] {
  return templates
    .map((t) => ({
      path: t.path,
      content: t.content.replace(
        /\$\{(KINDLER_[A-Z_]+)\}/g,
        (_m, key: string, offset: number, whole: string) => {
          const value = vars[key];
          if (value === undefined) {
            const line = whole.slice(0, offset).split('\n').length;
            throw new Failure(
              'invalid_input',
              `${t.path}:${line}: \${${key}} is not defined; ` +
                `known: ${Object.keys(vars).join(', ')}`,
            );
          }
          return value;
        },
      ),
    }))
    .sort((a, b) => byText(a.path, b.path));
}
