// What a branch's deploy/ must be before it is written: YAML that parses, one Kubernetes object
// per document, and only this environment's host in its routes. A Helm chart (deploy/Chart.yaml)
// is checked as Helm would see it after rendering: its template actions (`{{ … }}`) stand for a
// value, and a literal host in a template or under `ingress` in values.yaml must be this
// environment's. A refusal names the file and the line. Pure.
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node,
} from 'yaml';
import { Failure } from '../domain/index.js';
import type { BranchFile } from '../git/branch-store.js';

/** What one deploy may hold: bounded, so one pull request cannot make the bot write without end. */
export const DEPLOY_LIMITS = { files: 200, bytes: 2_000_000 } as const;

/** One problem, where it is. */
export interface ManifestProblem {
  path: string;
  line: number;
  message: string;
}

const YAML_FILE = /\.ya?ml$/;
/** A template action, whatever it spans: `{{ .Values.x }}`, `{{- include "y" . | nindent 4 }}`. */
const ACTION = /\{\{-?[\s\S]*?-?\}\}/g;
/** What an action stands for once rendered: a plain scalar of no meaning. */
const RENDERED = 'helm-value';

/** Throws Failure('invalid_input') naming every problem (file:line) of `files`, or returns. */
export function validateDeploy(files: BranchFile[], host: string, prefix = 'deploy/'): void {
  const problems = manifestProblems(files, host, prefix);
  if (!problems.length) return;
  const shown = problems.slice(0, 10).map((p) => `${p.path}:${p.line}: ${p.message}`);
  const more = problems.length > 10 ? `\n… and ${problems.length - 10} more` : '';
  throw new Failure(
    'invalid_input',
    `${prefix} is not deployed: ${problems.length === 1 ? 'one problem' : `${problems.length} problems`}; the previous deployment stays\n${shown.join('\n')}${more}`,
  );
}

export function manifestProblems(
  files: BranchFile[],
  host: string,
  prefix = 'deploy/',
): ManifestProblem[] {
  const bytes = files.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
  if (files.length > DEPLOY_LIMITS.files || bytes > DEPLOY_LIMITS.bytes)
    return [
      {
        path: prefix.replace(/\/$/, ''),
        line: 1,
        message: `${files.length} files, ${bytes} bytes: more than a deploy takes (${DEPLOY_LIMITS.files} files, ${DEPLOY_LIMITS.bytes} bytes)`,
      },
    ];
  const chart = files.some((f) => f.path === `${prefix}Chart.yaml`);
  const problems: ManifestProblem[] = [];
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
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
    const text = template ? renderActions(file.content) : file.content;
    const docs = parse(text, say, !template);
    if (docs === null) continue;
    for (const doc of docs) checkObject(doc, host, say, template);
  }
  return problems;
}

/**
 * A template with its actions rendered as Helm would leave them for these checks: an action alone
 * on its lines (if, range, end, a comment) renders to nothing, one inside a line to a value. The
 * lines an action spans stay, so every line keeps its number.
 */
function renderActions(text: string): string {
  return text.replace(ACTION, (action: string, offset: number) => {
    const before = text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset);
    const end = offset + action.length;
    const next = text.indexOf('\n', end);
    const after = text.slice(end, next < 0 ? text.length : next);
    const newlines = '\n'.repeat(action.split('\n').length - 1);
    return !before.trim() && !after.trim() ? newlines : `${RENDERED}${newlines}`;
  });
}

type Say = (line: number, message: string) => void;
type Located = { doc: Document; line: (node: Node | null | undefined) => number };

function parse(text: string, say: Say, uniqueKeys: boolean): Located[] | null {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys });
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

const hostMessage = (value: string, host: string, where: string) =>
  `${where} is "${value}"; an environment serves only its own host "${host}"`;

/** One document: a Kubernetes object, and its routes only to this environment's host. */
function checkObject({ doc, line }: Located, host: string, say: Say, template: boolean): void {
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
  const object = root.toJSON() as Record<string, unknown>;
  for (const key of ['apiVersion', 'kind'] as const)
    if (typeof object[key] !== 'string' || !object[key])
      say(line(root), `the object has no ${key}; one Kubernetes object per document`);
  const metadata = object.metadata as Record<string, unknown> | undefined;
  if (object.kind === 'List' || Array.isArray(object.items))
    say(line(root), 'a List holds several objects; one Kubernetes object per document');
  else if (typeof metadata?.name !== 'string' && typeof metadata?.generateName !== 'string')
    say(line(root), `the ${String(object.kind ?? 'object')} has no metadata.name`);
  // Hosts: an Ingress's rules and TLS, a Gateway API route's hostnames.
  const hosts: [string, unknown][] = [];
  const spec = root.get('spec', true);
  if (isMap(spec)) {
    const rules = spec.get('rules', true);
    if (object.kind === 'Ingress' && isSeq(rules))
      for (const rule of rules.items)
        if (isMap(rule)) hosts.push(['spec.rules[].host', rule.get('host', true)]);
    const tls = spec.get('tls', true);
    if (object.kind === 'Ingress' && isSeq(tls))
      for (const entry of tls.items) {
        const list = isMap(entry) ? entry.get('hosts', true) : null;
        if (isSeq(list)) for (const h of list.items) hosts.push(['spec.tls[].hosts[]', h]);
      }
    const hostnames = spec.get('hostnames', true);
    if (/Route$/.test(String(object.kind)) && isSeq(hostnames))
      for (const h of hostnames.items) hosts.push(['spec.hostnames[]', h]);
  }
  for (const [where, node] of hosts) {
    if (!isScalar(node)) continue;
    const value = node.value;
    // A template's host is a value (set in values.yaml, checked there).
    if (typeof value !== 'string' || (template && value.includes(RENDERED))) continue;
    if (value !== host)
      say(line(node), hostMessage(value, host, `the ${String(object.kind)}'s ${where}`));
  }
}
