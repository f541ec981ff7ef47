// What an environment's branch should hold: deploy/ rendered from the templates (read once per
// process), or from a pull request's head; and the tree id that makes, as a consistency check
// compares it. A tree id rendered from the templates is kept (git_objects) under the digest of what
// it is rendered from — the templates' files and the environment's variables — so a check renders
// and hashes only the environments whose templates or variables changed since a check before.
import crypto from 'node:crypto';
import { z } from 'zod';
import { byText, messageOf, type Environment } from '../domain/index.js';
import { stateKey } from '../store/state-key.js';
import type { Store } from '../store/store.js';
import { DEPLOY_PREFIX, type Render } from './branch-step.js';
import type { HeadSource } from './github-head.js';
import { renderBranchFiles, templateVars, type TemplateFile } from './manifests.js';
import { loadTemplates } from './templates.js';
import { treeSha } from './tree-hash.js';
import { validateDeploy } from './validate-manifests.js';

/** The kinds a pull request's deploy/ may hold, as its repository's policy said when it asked. */
export const previewKinds = (env: string) =>
  stateKey(`preview:kinds:${env}`, z.array(z.string()).nullable());

/** An environment's expected deploy/ tree id, or why its files could not be rendered. */
export type ExpectedTree = { tree: string } | { error: string };

export interface BranchRenderSettings {
  templatesDir?: string | undefined;
  /** The domain an environment's host is under (its site's, when the site has its own). */
  baseDomainOf(env: Environment): string;
  ingressClass: string;
}

type Templates = { files: TemplateFile[]; digest: string };

/**
 * Part of every kept tree's key: change it when renderBranchFiles or treeSha change what they make
 * from the same templates and variables, so trees kept before are not taken for the new ones.
 */
const RENDERING = 'deploy-tree-1';

export class BranchRender {
  private templates: Promise<Templates> | undefined;

  constructor(
    private readonly store: Pick<Store, 'getState' | 'gitObjects' | 'keepGitObjects'>,
    private readonly heads: HeadSource,
    private readonly settings: BranchRenderSettings,
  ) {}

  readonly render: Render = async (env, at, options = {}) => {
    const vars = this.vars(env);
    const sha = env.source ? (at ?? env.deployed?.sha ?? env.source.sha) : null;
    const head = env.source && sha ? await this.heads.files(env.source.repo, sha) : null;
    const files = renderBranchFiles(head ?? (await this.load()).files, vars);
    if (options.validate) {
      const allowedKinds = (await this.store.getState(previewKinds(env.name))) ?? undefined;
      validateDeploy(files, vars.KINDLER_HOST as string, 'deploy/', { allowedKinds });
    }
    return files;
  };

  /**
   * Each environment's expected deploy/ tree id, by name: a pull request's deployed tree as its
   * deploy recorded it; from the templates, kept by the digest of what it is rendered from (one
   * read of every digest, one write of what was rendered anew).
   */
  async trees(envs: Environment[]): Promise<Map<string, ExpectedTree>> {
    const out = new Map<string, ExpectedTree>();
    // A pull request's: its deployed tree, else rendered from its head (read meanwhile).
    const fromHeads = Promise.all(
      envs
        .filter((env) => env.source)
        .map(async (env) =>
          out.set(env.name, env.deployed ? { tree: env.deployed.tree } : await this.rendered(env)),
        ),
    );
    const rows = envs.filter((e) => !e.source);
    // Read once for all of them: templates that cannot be read say so for every row.
    const templates = rows.length
      ? await this.load().catch((error: unknown) => ({ error: messageOf(error) }))
      : null;
    if (!templates || 'error' in templates) {
      if (templates) for (const env of rows) out.set(env.name, templates);
      await fromHeads;
      return out;
    }
    const fromTemplates = rows.map((env) => {
      const vars = this.vars(env);
      const key = `render:${sha1(`${RENDERING}\0${templates.digest}\0${JSON.stringify(vars)}`)}`;
      return { env, vars, key };
    });
    const kept = await this.store.gitObjects(fromTemplates.map((e) => e.key));
    const learned = new Map<string, string>();
    for (const { env, vars, key } of fromTemplates) {
      const tree = kept.get(key) ?? learned.get(key);
      if (tree) {
        out.set(env.name, { tree });
        continue;
      }
      try {
        const made = treeSha(renderBranchFiles(templates.files, vars), DEPLOY_PREFIX);
        learned.set(key, made);
        out.set(env.name, { tree: made });
      } catch (error) {
        out.set(env.name, { error: messageOf(error) });
      }
    }
    await Promise.all([this.store.keepGitObjects(learned), fromHeads]);
    return out;
  }

  private async rendered(env: Environment): Promise<ExpectedTree> {
    try {
      return { tree: treeSha(await this.render(env), DEPLOY_PREFIX) };
    } catch (error) {
      return { error: messageOf(error) };
    }
  }

  private vars(env: Environment): Record<string, string> {
    return templateVars(env, {
      baseDomain: this.settings.baseDomainOf(env),
      ingressClass: this.settings.ingressClass,
    });
  }

  /** Read once, however many renders start before the first read ends. */
  private load(): Promise<Templates> {
    return (this.templates ??= loadTemplates(this.settings.templatesDir).then(
      (files) => {
        const hash = crypto.createHash('sha1');
        for (const f of [...files].sort((a, b) => byText(a.path, b.path)))
          hash.update(`${f.path}\0${f.content}\0`);
        return { files, digest: hash.digest('hex') };
      },
      (error: unknown) => {
        this.templates = undefined; // a directory fixed meanwhile is read again
        throw error;
      },
    ));
  }
}

const sha1 = (text: string) => crypto.createHash('sha1').update(text).digest('hex');
