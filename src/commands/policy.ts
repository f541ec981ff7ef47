// `.github/kindler.yml`: who may run what. Without a file, read-only verbs need read permission on
// the repository and the others need write. Rules only tighten, per verb and per environment-name
// glob; a refusal names the rule that refused. Example (config/kindler.yml.example):
//
//   permissions:
//     rules:
//       - name: prod-needs-admin
//         environments: ["prod-*", "uat"]
//         verbs: [create, delete, sync, prune]
//         require: admin
//       - name: platform-team-deletes
//         verbs: [delete]
//         users: [alice, bob]
//   pull_requests:
//     labels: { k3d: "env:k3d", kind: "env:kind" }
//     keep_label: keep
//     ttl: 72h
//     forks: false          # pull requests from forks get no environment unless true
//     deploy_from: [acme/web]  # whose heads deploy their own deploy/ (the config repo's always do)
//     allowed_kinds: [apps/Deployment, Service, networking.k8s.io/Ingress]  # what it may deploy
//   repositories: [acme/platform-config, acme/web]   # who may issue commands (default: this one)
//   auto_repair: non-destructive   # the reconcile loop repairs drift a sync can (default: off)
//   sites: [...]                   # where environments are placed (github/site-declaration.ts)
//
// The file is read from the config repository (KINDLER_CONFIG_REPO) for every repository the app
// is installed on.
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from './duration.js';
import { VERBS, isReadOnly, type Verb } from './verbs.js';

export const LEVELS = ['none', 'read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Level = (typeof LEVELS)[number];

const rule = z
  .object({
    name: z.string().min(1),
    verbs: z.array(z.enum(VERBS)).min(1).optional(),
    environments: z.array(z.string().min(1)).min(1).optional(),
    require: z.enum(LEVELS).optional(),
    users: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((r) => r.require !== undefined || r.users !== undefined, {
    message: 'a rule needs "require" or "users"',
  });

const duration = z
  .string()
  .refine((t) => parseDuration(t).ok, { message: 'expected a duration like 24h, 3d or never' });

const schema = z
  .object({
    /** Pull-request environments: which labels create them, which pins them, how long they live. */
    pull_requests: z
      .object({
        labels: z
          .object({
            k3d: z.string().min(1).default('env:k3d'),
            kind: z.string().min(1).default('env:kind'),
          })
          .strict()
          .default({ k3d: 'env:k3d', kind: 'env:kind' }),
        keep_label: z.string().min(1).default('keep'),
        /** Unset → KINDLER_PR_TTL_HOURS. */
        ttl: duration.optional(),
        /** Whether a pull request whose head is in a fork gets an environment. */
        forks: z.boolean().default(false),
        /**
         * Repositories (owner/repo) whose pull requests deploy their head's deploy/; the config
         * repository's own always do. Others get the templates.
         */
        deploy_from: z
          .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected owner/repo' }))
          .default([]),
        /**
         * The kinds a head's deploy/ may hold, `group/Kind` (`Kind` alone for the core group);
         * unset → namespaced workload, config, service and ingress kinds. RBAC and cluster-scoped
         * kinds stay refused by Argo CD's AppProject whatever this says.
         */
        allowed_kinds: z
          .array(
            z.string().regex(/^([a-z0-9.-]+\/)?[A-Z][A-Za-z0-9]*$/, {
              message: 'expected Kind or group/Kind, like apps/Deployment',
            }),
          )
          .optional(),
      })
      .strict()
      .default({
        labels: { k3d: 'env:k3d', kind: 'env:kind' },
        keep_label: 'keep',
        forks: false,
        deploy_from: [],
      }),
    /**
     * The repositories that may issue commands (owner/repo); unset → the config repository alone.
     */
    /**
     * What the reconcile loop repairs by itself (KINDLER_AUTO_REPAIR, when set, wins): drift a sync
     * repairs (it creates and updates, never deletes), or nothing.
     */
    auto_repair: z.enum(['off', 'non-destructive']).default('off'),
    repositories: z
      .array(z.string().regex(/^[^/\s]+\/[^/\s]+$/, { message: 'expected owner/repo' }))
      .min(1)
      .optional(),
    permissions: z
      .object({
        default: z
          .object({ read: z.enum(LEVELS).default('read'), write: z.enum(LEVELS).default('write') })
          .strict()
          .default({ read: 'read', write: 'write' }),
        rules: z.array(rule).default([]),
      })
      .strict()
      .default({ default: { read: 'read', write: 'write' }, rules: [] }),
  })
  .passthrough();

export type Policy = z.infer<typeof schema>;
export const DEFAULT_POLICY: Policy = schema.parse({});

export function parsePolicy(
  text: string,
): { ok: true; policy: Policy } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    return {
      ok: false,
      error: `.github/kindler.yml is not valid YAML: ${(error as Error).message.split('\n')[0]}`,
    };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, policy: parsed.data };
  const issue = parsed.error.issues[0];
  const where =
    issue?.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') ?? '';
  return {
    ok: false,
    error: `.github/kindler.yml: ${where ? `${where}: ` : ''}${issue?.message ?? 'invalid'}`,
  };
}

const rank = (level: Level) => LEVELS.indexOf(level);
const glob = (pattern: string, name: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(name);

export type Decision = { allowed: true } | { allowed: false; rule: string; message: string };

export function applyPolicy(
  policy: Policy,
  request: { verb: Verb; envName: string | null; login: string; permission: Level },
): Decision {
  const { verb, envName, login, permission } = request;
  const command = `\`/env ${verb}${envName ? ` ${envName}` : ''}\``;
  const base = isReadOnly(verb)
    ? policy.permissions.default.read
    : policy.permissions.default.write;
  if (rank(permission) < rank(base)) {
    const name = isReadOnly(verb) ? 'default read' : 'default write';
    return {
      allowed: false,
      rule: name,
      message:
        `@${login}, ${command} needs ${base} permission on this ` +
        `repository (rule "${name}"); you have ${permission}.`,
    };
  }
  for (const r of policy.permissions.rules) {
    if (r.verbs && !r.verbs.includes(verb)) continue;
    if (r.environments && (!envName || !r.environments.some((p) => glob(p, envName)))) continue;
    if (r.require && rank(permission) < rank(r.require)) {
      return {
        allowed: false,
        rule: r.name,
        message:
          `@${login}, ${command} needs ${r.require} permission on this ` +
          `repository (rule "${r.name}" in .github/kindler.yml); you have ${permission}.`,
      };
    }
    if (r.users && !r.users.includes(login)) {
      return {
        allowed: false,
        rule: r.name,
        message:
          `@${login}, ${command} is limited to ${r.users.map((u) => `@${u}`).join(', ')} ` +
          `(rule "${r.name}" in .github/kindler.yml).`,
      };
    }
  }
  return { allowed: true };
}
