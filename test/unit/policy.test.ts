import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  applyPolicy as authorize,
  parsePolicy,
} from '../../src/commands/policy.js';

const POLICY = `permissions:
  rules:
    - name: prod-needs-admin
      environments: ["prod-*", uat]
      verbs: [create, delete, sync, prune]
      require: admin
    - name: platform-team-deletes
      verbs: [delete]
      users: [alice, bob]
labels: { k3d: "env:k3d" }
`;

describe('.github/kindler.yml', () => {
  const policy = (() => {
    const p = parsePolicy(POLICY);
    if (!p.ok) throw new Error(p.error);
    return p.policy;
  })();

  it.each([
    ['list', null, 'carol', 'read', true],
    ['list', null, 'carol', 'none', false],
    ['create', 'dev', 'carol', 'write', true],
    ['create', 'dev', 'carol', 'triage', false],
    ['create', 'prod-eu', 'carol', 'write', false],
    ['create', 'prod-eu', 'carol', 'admin', true],
    ['create', 'uat', 'carol', 'maintain', false],
    ['delete', 'dev', 'carol', 'admin', false],
    ['delete', 'dev', 'alice', 'write', true],
    ['delete', 'prod-1', 'alice', 'write', false],
  ] as const)('%s %s by %s (%s) → %s', (verb, env, login, permission, allowed) => {
    expect(authorize(policy, { verb, envName: env, login, permission }).allowed).toBe(allowed);
  });

  it('names the rule that refused', () => {
    expect(
      authorize(policy, { verb: 'delete', envName: 'dev', login: 'carol', permission: 'admin' }),
    ).toEqual({
      allowed: false,
      rule: 'platform-team-deletes',
      message:
        '@carol, `/env delete dev` is limited to @alice, @bob (rule "platform-team-deletes" in .github/kindler.yml).',
    });
    expect(
      authorize(DEFAULT_POLICY, { verb: 'sync', envName: null, login: 'x', permission: 'read' }),
    ).toEqual({
      allowed: false,
      rule: 'default write',
      message:
        '@x, `/env sync` needs write permission on this repository (rule "default write"); you have read.',
    });
  });

  it.each([
    [
      'permissions:\n  rules:\n    - name: x\n      verbs: [destroy]\n      require: admin\n',
      '.github/kindler.yml: permissions.rules[0].verbs[0]: Invalid option: expected one of "create"|"delete"|"stop"|"start"|"list"|"status"|"check"|"sync"|"prune"|"retry"|"cancel"|"extend"|"update"|"rollback"|"history"|"help"',
    ],
    [
      'permissions:\n  rules:\n    - name: x\n      verbs: [create]\n',
      '.github/kindler.yml: permissions.rules[0]: a rule needs "require" or "users"',
    ],
    [
      'permissions:\n  rules:\n    - name: x\n      require: boss\n',
      '.github/kindler.yml: permissions.rules[0].require: Invalid option: expected one of "none"|"read"|"triage"|"write"|"maintain"|"admin"',
    ],
    ['permissions: [', '.github/kindler.yml is not valid YAML: '],
  ])('refuses an invalid file precisely: %j', (text, error) => {
    const parsed = parsePolicy(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.startsWith(error)).toBe(true);
  });

  it('the example file parses, pull-request settings included', () => {
    const text = fs.readFileSync(
      path.resolve(import.meta.dirname, '../../config/kindler.yml.example'),
      'utf8',
    );
    const parsed = parsePolicy(text);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.policy.pull_requests).toEqual({
      deploy_from: [],
      labels: { k3d: 'env:k3d', kind: 'env:kind' },
      keep_label: 'keep',
      ttl: '72h',
      forks: false,
    });
    expect(DEFAULT_POLICY.pull_requests).toEqual({
      deploy_from: [],
      labels: { k3d: 'env:k3d', kind: 'env:kind' },
      keep_label: 'keep',
      forks: false,
    });
    expect(DEFAULT_POLICY.repositories).toBeUndefined();
  });
});
