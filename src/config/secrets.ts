// Which secrets a configuration holds, however they were given (in a URL's user-info too): the
// redactor is told every one.

export const pair = (user: string | undefined, password: string | undefined) =>
  user && password ? `${user}:${password}` : undefined;

/** The user-info part of a URL, decoded (the password in DATABASE_URL, GIT_REPO_URL…). */
export function urlPart(
  url: string | undefined,
  part: 'username' | 'password',
): string | undefined {
  if (!url) return undefined;
  try {
    const value = new URL(url)[part];
    return value ? decodeURIComponent(value) : undefined;
  } catch {
    return undefined;
  }
}

export const userOf = (url: string | undefined) => urlPart(url, 'username');

export const passwordOf = (url: string | undefined) => urlPart(url, 'password');

type SecretVariable =
  | 'GIT_PASSWORD'
  | 'GIT_USERNAME'
  | 'GIT_REPO_URL'
  | 'PORTAINER_API_KEY'
  | 'PORTAINER_ADMIN_USER'
  | 'PORTAINER_ADMIN_PASSWORD'
  | 'DATABASE_URL'
  | 'ARGOCD_REPO_URL'
  | 'KINDLER_DASHBOARD_TOKEN'
  | 'KINDLER_NOTIFY_URL';

/** The sites' Portainer API keys (PORTAINER_API_KEY_<SITE>), by variable. */
export const siteKeysOf = (env: NodeJS.ProcessEnv): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).filter(
      (e): e is [string, string] => /^PORTAINER_API_KEY_[A-Z0-9_]+$/.test(e[0]) && Boolean(e[1]),
    ),
  );

/** Every secret of a configuration (and of the process environment it was read from). */
export function secretsOf(
  raw: Partial<Record<SecretVariable, string | undefined>>,
  env: NodeJS.ProcessEnv,
  gitService: string | undefined,
): string[] {
  return [
    raw.GIT_PASSWORD,
    raw.PORTAINER_API_KEY,
    raw.PORTAINER_ADMIN_PASSWORD,
    passwordOf(raw.DATABASE_URL),
    passwordOf(raw.GIT_REPO_URL),
    passwordOf(raw.ARGOCD_REPO_URL),
    // Basic auth sends base64("user:password"): the pairs are secrets too.
    pair(
      raw.GIT_USERNAME ?? userOf(raw.GIT_REPO_URL),
      raw.GIT_PASSWORD ?? passwordOf(raw.GIT_REPO_URL),
    ),
    pair(userOf(raw.ARGOCD_REPO_URL), passwordOf(raw.ARGOCD_REPO_URL)),
    pair(raw.PORTAINER_ADMIN_USER, raw.PORTAINER_ADMIN_PASSWORD),
    env.WEBHOOK_SECRET,
    env.WEBHOOK_PROXY_URL, // whoever has the channel reads the deliveries
    env.PRIVATE_KEY,
    env.GITHUB_CLIENT_SECRET,
    raw.KINDLER_DASHBOARD_TOKEN,
    gitService,
    // An incoming-webhook URL (Slack's) is its own credential.
    raw.KINDLER_NOTIFY_URL,
    ...Object.values(siteKeysOf(env)),
  ].filter((s): s is string => typeof s === 'string' && s.length > 0);
}
