// Every request the bot sends to GitHub in a test passes through here and is checked against
// GitHub's official descriptions, so a stand-in that would answer 200 where GitHub says 422 fails
// the test instead: REST requests against the OpenAPI description (@octokit/openapi: the route
// exists, required path and query parameters are there, the JSON body matches the operation's
// request-body schema), GraphQL documents against the schema (@octokit/graphql-schema), plus the
// limits the description does not state (a comment or issue body is at most 65,536 characters).
//
// Use `ContractProbotOctokit` / `ContractOctokit` where a test builds its clients, and
// `expectNoContractViolations()` in afterEach: a refused request also throws at the call site.
import { createRequire } from 'node:module';
import { Octokit } from '@octokit/rest';
import { validate as validateGraphql } from '@octokit/graphql-schema';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { Probot, ProbotOctokit } from 'probot';

const require = createRequire(import.meta.url);

interface Operation {
  parameters?: { $ref?: string; name?: string; in?: string; required?: boolean }[];
  requestBody?: { content?: Record<string, { schema?: unknown }>; required?: boolean };
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { parameters: Record<string, { name: string; in: string; required?: boolean }> };
}

let spec: Spec | null = null;
let ajv: Ajv | null = null;
const compiled = new Map<string, ReturnType<Ajv['compile']>>();
const routes: { method: string; template: string; pattern: RegExp }[] = [];

function load(): Spec {
  if (spec) return spec;
  spec = require('@octokit/openapi/generated/api.github.com.json') as Spec;
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats.default(ajv);
  ajv.addSchema(toJsonSchema({ components: spec.components }) as object, 'gh');
  for (const [template, methods] of Object.entries(spec.paths))
    for (const method of Object.keys(methods))
      routes.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      });
  return spec;
}

/** Limits GitHub enforces that the description does not state. */
const BODY_LIMITS: Record<string, number> = {
  'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': 65_536,
  'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': 65_536,
  'POST /repos/{owner}/{repo}/issues': 65_536,
  'PATCH /repos/{owner}/{repo}/issues/{issue_number}': 65_536,
};

export const contractViolations: string[] = [];

/** Checks one request; returns what GitHub would refuse, or null. */
export function checkGitHubRequest(
  method: string,
  urlTemplate: string,
  params: Record<string, unknown>,
  body: unknown,
): string | null {
  const s = load();
  // GitHub Enterprise Server serves REST under /api/v3 and GraphQL at /api/graphql.
  const path = urlTemplate
    .replace(/^https?:\/\/[^/]+/, '')
    .replace(/^\/api\/v3(?=\/)/, '')
    .replace(/^\/api\/graphql$/, '/graphql')
    .split('?')[0]!;
  if (method === 'POST' && path === '/graphql') {
    const query = (body as { query?: unknown } | null)?.query;
    if (typeof query !== 'string') return 'POST /graphql without a query';
    const errors = validateGraphql(query);
    return errors.length ? `GraphQL: ${errors.map((e) => e.message).join('; ')}` : null;
  }
  const route =
    routes.find((r) => r.method === method && r.template === path) ??
    routes.find((r) => r.method === method && r.pattern.test(path));
  if (!route) return `${method} ${path} is not in GitHub's REST API`;
  const op = s.paths[route.template]![method.toLowerCase()]!;
  const problems: string[] = [];
  for (const p of op.parameters ?? []) {
    const param = p.$ref ? s.components.parameters[p.$ref.split('/').pop()!] : p;
    if (!param?.required || param.in === 'header') continue;
    if (param.in === 'path' && route.template === path && params[param.name!] === undefined)
      problems.push(`path parameter ${param.name} is missing`);
    if (param.in === 'query' && params[param.name!] === undefined)
      problems.push(`query parameter ${param.name} is required`);
  }
  const schema = op.requestBody?.content?.['application/json']?.schema;
  const key = `${method} ${route.template}`;
  if (schema) {
    let check = compiled.get(key);
    if (!check) {
      check = ajv!.compile(toJsonSchema(schema) as object);
      compiled.set(key, check);
    }
    if (body === undefined && op.requestBody?.required) problems.push('a request body is required');
    else if (body !== undefined && !check(body))
      problems.push(
        ...(check.errors ?? []).map((e) => `body${e.instancePath} ${e.message ?? 'is invalid'}`),
      );
  }
  const limit = BODY_LIMITS[key];
  const text = (body as { body?: unknown } | null)?.body;
  if (limit && typeof text === 'string' && text.length > limit)
    problems.push(`body is ${text.length} characters; GitHub refuses more than ${limit} (422)`);
  return problems.length ? `${key}: ${problems.join('; ')}` : null;
}

/**
 * OpenAPI 3.0 schema → JSON Schema for Ajv: `nullable: true` becomes a `null` alternative, and
 * `#/components/...` refers into the description added as `gh`.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node))
    if (k === '$ref' && typeof v === 'string') out[k] = `gh${v}`;
    else if (k !== 'nullable') out[k] = toJsonSchema(v);
  if ((node as { nullable?: unknown }).nullable !== true) return out;
  if (typeof out.type === 'string' && !out.enum) return { ...out, type: [out.type, 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

type Hooked = {
  hook: {
    wrap(
      name: 'request',
      fn: (
        request: (o: Record<string, unknown>) => Promise<unknown>,
        options: Record<string, unknown>,
      ) => Promise<unknown>,
    ): void;
  };
  request: { endpoint: { parse(o: Record<string, unknown>): { body?: unknown } } };
};

/** An Octokit plugin: refuses (throws and records) what GitHub would refuse. */
export function contract(octokit: unknown): Record<string, never> {
  const o = octokit as Hooked;
  o.hook.wrap('request', async (request, options) => {
    const method = String(options.method);
    const parsed = o.request.endpoint.parse(options);
    const problem = checkGitHubRequest(method, String(options.url), options, parsed.body);
    if (problem) {
      contractViolations.push(problem);
      throw Object.assign(new Error(`GitHub would refuse this request: ${problem}`), {
        status: 422,
      });
    }
    return request(options);
  });
  return {};
}

export const ContractProbotOctokit = ProbotOctokit.plugin(contract);
export const ContractOctokit = Octokit.plugin(contract);

export function expectNoContractViolations(): void {
  const found = contractViolations.splice(0);
  if (found.length) throw new Error(`requests GitHub would refuse:\n${found.join('\n')}`);
}

/**
 * A Probot whose clients check every request against GitHub's description, with an installation
 * token of its own, retries and throttling off (the tests say what GitHub answers, once).
 */
export function contractProbot(): Probot {
  return new Probot({
    githubToken: 'ghs_test0123456789',
    Octokit: ContractProbotOctokit.defaults((o: object) => ({
      ...o,
      retry: { enabled: false },
      throttle: { enabled: false },
    })),
    logLevel: 'fatal',
  });
}
