// Expiry of environments with a TTL (pull-request environments get one by default): a warning
// comment once, a configurable lead before the end, then a delete operation; pinned ones (the
// `keep` label) never expire. Runs every minute on the queue's schedule, once among replicas.
import { z } from 'zod';
import { stateKey } from '../store/state-key.js';
import type { Trigger } from '../domain/index.js';
import type { CommentDeps } from './comment-handler.js';
import { splitRepo, type GitHubClient, type RepoRef } from './types.js';

export interface SweepResult {
  warned: string[];
  deleted: string[];
}

export async function sweepExpiry(
  deps: CommentDeps,
  octokitFor: (repo: RepoRef) => Promise<GitHubClient | null>,
  now = new Date(),
): Promise<SweepResult> {
  const { rt } = deps;
  const lead = rt.config.KINDLER_EXPIRY_WARNING_HOURS * 3_600_000;
  const result: SweepResult = { warned: [], deleted: [] };
  for (const env of await rt.store.listEnvironments()) {
    if (env.pinned || !env.expiresAt || env.status !== 'ready') continue;
    if (await rt.store.activeOperation(env.name)) continue; // a delete may already be queued
    const origin = await rt.store.latestOperation(env.name, 'create');
    const repo = origin?.trigger.repo ? splitRepo(origin.trigger.repo) : null;
    const issue = origin?.trigger.issueNumber ?? null;
    const octokit = repo ? await octokitFor(repo) : null;
    if (env.expiresAt <= now) {
      const trigger: Trigger = {
        source: 'schedule',
        actor: null,
        url: null,
        repo: origin?.trigger.repo ?? null,
        issueNumber: issue,
        headSha: origin?.trigger.headSha ?? null,
      };
      const op = await rt.engine.request({ kind: 'delete', name: env.name, trigger });
      await deps.outbox.report(op, octokit ?? undefined);
      result.deleted.push(env.name);
    } else if (env.expiresAt.getTime() - now.getTime() <= lead) {
      const key = stateKey(`expiry-warned:${env.name}`, z.string());
      if ((await rt.store.getState(key)) === env.expiresAt.toISOString()) continue;
      if (octokit && repo && issue) {
        await deps.outbox.send(
          {
            kind: 'comment',
            repo,
            issueNumber: issue,
            body:
              `⏰ Environment \`${env.name}\` expires ${env.expiresAt.toISOString()} and ` +
              `will then be deleted. To keep it longer, comment \`/env extend ${env.name} ` +
              `24h\`${env.name.startsWith('pr-') ? ' or add the `keep` label' : ''}.`,
          },
          { key: `expiry-warning:${env.name}:${env.expiresAt.toISOString()}`, client: octokit },
        );
      }
      await rt.store.setState(key, env.expiresAt.toISOString());
      result.warned.push(env.name);
    }
  }
  return result;
}
