// What a branch's deploy/ must be before it is written: file names without control characters,
// YAML that parses, one Kubernetes object per document, each of a kind the preview may deploy and
// within the rules of preview-rules.ts (Pod Security baseline, Services, this environment's host
// only). Objects are judged as Kubernetes reads them: aliases and merge keys resolved. A Helm chart
// (deploy/Chart.yaml) is checked as Helm would see it after rendering: a `{{ .Values.x }}` action
// is the value values.yaml gives it, any other action a computed value (which no host may be), and
// a host under `ingress` in values.yaml must be this environment's. A refusal names the file, the
// line and the rule. Pure.
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
} from 'yaml';
import { byText, Failure } from '../domain/index.js';
import type { BranchFile } from './branch-store.js';
import { renderActions, valuesOf } from './helm-render.js';
import {
  DEFAULT_ALLOWED_KINDS,
  groupKind,
  hostMessage,
  kindAllowed,
  objectProblems,
} from './preview-rules.js';

/** What a deploy is checked against. */
export interface DeployRules {
  /** `group/Kind` (or `Kind`) entries a deploy may hold; DEFAULT_ALLOWED_KINDS otherwise. */
  allowedKinds?: readonly string[] | undefined;
}

/** What one deploy may hold: bounded, so one pull request cannot make the bot write without end. */
export const DEPLOY_LIMITS = { files: 200, bytes: 2_000_000 } as const;

/** One problem, where it is. */
export interface ManifestProblem {
  path: string;
  line: number;
  message: string;
}

const YAML_FILE = /\.ya?ml$/;
/** A file name with a control character (a newline would forge tree entries in some tools). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Throws Failure('invalid_input') naming every problem (file:line) of `files`, or returns. */
export function validateDeploy(
  files: BranchFile[],
  host: string,
  prefix = 'deploy/',
  rules: DeployRules = {},
): void {
  const problems = manifestProblems(files, host, prefix, rules);
  if (!problems.length) return;
  const shown = problems.slice(0, 10).map((p) => `${p.path}:${p.line}: ${p.message}`);
  const more = problems.length > 10 ? `\n… and ${problems.length - 10} more` : '';
  throw new Failure(
    'invalid_input',
    `${prefix} is not deployed: ` +
      `${problems.length === 1 ? 'one problem' : `${problems.length} problems`}; ` +
      `the previous deployment stays\n${shown.join('\n')}${more}`,
  );
}

export function manifestProblems(
  files: BranchFile[],
  host: string,
  prefix = 'deploy/',
  rules: DeployRules = {},
): ManifestProblem[] {
  const named = files.filter((f) => CONTROL.test(f.path));
  if (named.length)
    return named.map((f) => ({
      path: JSON.stringify(f.path),
      line: 1,
      message: 'a file name holds a control character (a newline, a tab…); rename it',
    }));
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
  if (files.length > DEPLOY_LIMITS.files || bytes > DEPLOY_LIMITS.bytes)
    return [
      {
        path: prefix.replace(/\/$/, ''),
        line: 1,
        message:
          `${files.length} files, ${bytes} bytes: more than a deploy takes ` +
          `(${DEPLOY_LIMITS.files} files, ${DEPLOY_LIMITS.bytes} bytes)`,
      },
    ];
  const chart = files.some((f) => f.path === `${prefix}Chart.yaml`);
  const allowed = rules.allowedKinds ?? DEFAULT_ALLOWED_KINDS;
  const problems: ManifestProblem[] = [];
  const valuesFile = files.find((f) => f.path === `${prefix}values.yaml`);
  const values = chart && valuesFile ? valuesOf(valuesFile.content) : null;
  for (const file of [...files].sort((a, b) => byText(a.path, b.path))) {
    if (!YAML_FILE.test(file.path)) continue;
    const inside = file.path.slice(prefix.length);
    const template = chart && inside.startsWith('templates/');
    const say = (line: number, message: string) =>
      problems.push({ path: file.path, line, message });
    if (chart && !template) {
      // Chart.yaml, values.yaml and the like: plain YAML, read by Helm itself.
      const docs = parse(file.content, say, true);
      if (docs === null) continue;
      if (inside === 'Chart.yaml') checkChart(docs, say);
      if (inside === 'values.yaml') checkValues(docs, host, say);
      continue;
    }
    // A manifest, or a chart's template with its actions standing for values.
    const text = template ? renderActions(file.content, values) : file.content;
    const docs = parse(text, say, !template);
    if (docs === null) continue;
    for (const doc of docs) checkObject(doc, host, say, allowed);
  }
  return problems;
}

type Say = (line: number, message: string) => void;
type Located = { doc: Document; line: (node: Node | null | undefined) => number };

function parse(text: string, say: Say, uniqueKeys: boolean): Located[] | null {
  const lineCounter = new LineCounter();
  // Merge keys (`<<`) as Kubernetes' YAML reader takes them.
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys, merge: true });
  const list = Array.isArray(docs) ? docs : [];
  const line = (node: Node | null | undefined) =>
    node?.range ? lineCounter.linePos(node.range[0]).line : 1;
  let bad = false;
  for (const doc of list)
    for (const error of doc.errors) {
      bad = true;
      say(error.linePos?.[0]?.line ?? 1, `YAML does not parse: ${firstLine(error.message)}`);
    }
  return bad ? null : list.map((doc) => ({ doc, line }));
}

const firstLine = (message: string) => message.split('\n')[0]?.replace(/ at line \d+.*$/, '');

function checkChart(docs: Located[], say: Say): void {
  const [first] = docs;
  const value = first?.doc.toJS() as Record<string, unknown> | null;
  for (const key of ['apiVersion', 'name', 'version'])
    if (typeof value?.[key] !== 'string' || !value[key])
      say(first ? first.line(first.doc.contents) : 1, `Chart.yaml has no ${key}`);
}

/** values.yaml: a host under an `ingress` key must be this environment's. */
function checkValues(docs: Located[], host: string, say: Say): void {
  for (const { doc, line } of docs) {
    const walk = (node: unknown, path: string[]): void => {
      if (isAlias(node)) {
        if (depth(path)) walk(node.resolve(doc), path);
        return;
      }
      if (isMap(node))
        for (const pair of node.items) walk(pair.value, [...path, String(pairKey(pair.key))]);
      else if (isSeq(node)) for (const item of node.items) walk(item, path);
      else if (isScalar(node)) {
        const key = path.at(-1) ?? '';
        const value = node.value;
        if (
          path.some((p) => /ingress/i.test(p)) &&
          (key === 'host' || key === 'hosts') &&
          typeof value === 'string' &&
          value !== host
        )
          say(line(node), hostMessage(value, host, path.join('.')));
      }
    };
    walk(doc.contents, []);
  }
}

const pairKey = (key: unknown) => (isScalar(key) ? key.value : key);
/** Aliases followed at most this deep (a cycle of aliases ends here). */
const depth = (path: string[]) => path.length < 64;

/** One document: one Kubernetes object of an allowed kind, within the preview rules. */
function checkObject(
  { doc, line }: Located,
  host: string,
  say: Say,
  allowed: readonly string[],
): void {
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return; // empty document
  if (!isMap(root)) {
    say(
      line(root),
      isSeq(root)
        ? 'a document holds a list; one Kubernetes object per document (separate them with ---)'
        : 'a document is not a Kubernetes object (a mapping with apiVersion and kind)',
    );
    return;
  }
  let object: Record<string, unknown>;
  try {
    // As Kubernetes reads it: every alias and merge key resolved (bounded: no alias bombs).
    object = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown>;
  } catch (error) {
    say(line(root), `the document cannot be read: ${firstLine((error as Error).message)}`);
    return;
  }
  const typed = (['apiVersion', 'kind'] as const).every((key) => {
    const ok = typeof object[key] === 'string' && object[key] !== '';
    if (!ok) say(line(root), `the object has no ${key}; one Kubernetes object per document`);
    return ok;
  });
  const metadata = object.metadata as Record<string, unknown> | undefined;
  const kind = String(object.kind ?? 'object');
  if (kind === 'List' || Array.isArray(object.items)) {
    say(line(root), 'a List holds several objects; one Kubernetes object per document');
    return;
  }
  if (typeof metadata?.name !== 'string' && typeof metadata?.generateName !== 'string')
    say(line(root), `the ${kind} has no metadata.name`);
  if (!typed) return;
  const gk = groupKind(String(object.apiVersion), kind);
  if (!kindAllowed(gk, allowed)) {
    say(
      line(root.get('kind', true) as Node),
      `a ${gk} is not something a preview deploys (allowed: pull_requests.allowed_kinds in ` +
        `.github/kindler.yml)`,
    );
    return;
  }
  for (const problem of objectProblems(object, host))
    say(line(nodeAt(doc, problem.path)), problem.message);
}

/** The node at `path` (aliases and merge keys followed), or the nearest one found on the way. */
function nodeAt(doc: Document, path: (string | number)[]): Node | null {
  let node: unknown = doc.contents;
  let found = node as Node | null;
  for (const key of path) {
    for (let hops = 0; isAlias(node) && hops < 64; hops++) node = node.resolve(doc);
    let next: unknown = null;
    if (isMap(node)) {
      next = node.get(key, true);
      // A key that came in through `<<: *base` lives in the merged map.
      for (const pair of node.items)
        if (next === undefined && pairKey(pair.key) === '<<') {
          const merged = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
          if (isMap(merged)) next = merged.get(key, true);
        }
    } else if (isSeq(node) && typeof key === 'number') next = node.items[key];
    if (next === undefined || next === null) return found;
    node = next;
    if (!isAlias(node)) found = node as Node;
  }
  return found;
}
