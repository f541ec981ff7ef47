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
