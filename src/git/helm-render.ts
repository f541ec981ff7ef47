// A Helm chart's templates as Helm would leave them for the deploy checks (validate-manifests.ts):
// a `{{ .Values.x }}` action is the value values.yaml gives it, any other action inside a line a
// computed value, an action alone on its lines nothing. Pure.
import { parseAllDocuments, type Document } from 'yaml';
import { COMPUTED } from './preview-rules.js';

/** A template action, whatever it spans: `{{ .Values.x }}`, `{{- include "y" . | nindent 4 }}`. */
const ACTION = /\{\{-?[\s\S]*?-?\}\}/g;
/** An action that only reads a value: `{{ .Values.ingress.host }}`, optionally `| quote`. */
const VALUE_REF = /^\{\{-?\s*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?:\|\s*quote\s*)?-?\}\}$/;
/** What any other action stands for once rendered: a plain scalar of no meaning. */
const RENDERED = COMPUTED;
/**
 * A template with its actions rendered as Helm would leave them for these checks: an action alone
 * on its lines (if, range, end, a comment) renders to nothing, one inside a line to a value. The
 * lines an action spans stay, so every line keeps its number.
 */
export function renderActions(text: string, values: unknown): string {
  return text.replace(ACTION, (action: string, offset: number) => {
    const before = text.slice(text.lastIndexOf('\n', offset - 1) + 1, offset);
    const end = offset + action.length;
    const next = text.indexOf('\n', end);
    const after = text.slice(end, next < 0 ? text.length : next);
    const newlines = '\n'.repeat(action.split('\n').length - 1);
    if (!before.trim() && !after.trim()) return newlines;
    return `${valueOf(action, values) ?? RENDERED}${newlines}`;
  });
}

/**
 * values.yaml as Helm reads it (aliases and merge keys resolved), or null when it does not parse.
 */
export function valuesOf(text: string): unknown {
  try {
    const [doc] = parseAllDocuments(text, { merge: true }) as Document[];
    return doc && !doc.errors.length ? doc.toJS({ maxAliasCount: 100 }) : null;
  } catch {
    return null;
  }
}

/** The plain text `{{ .Values.a.b }}` renders to, when values.yaml gives a simple scalar there. */
function valueOf(action: string, values: unknown): string | null {
  const path = VALUE_REF.exec(action)?.[1];
  if (!path) return null;
  let value: unknown = values;
  for (const key of path.slice(1).split('.'))
    value =
      value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : null;
  const text = typeof value === 'string' || typeof value === 'number' ? String(value) : null;
  // Only what reads back as the same plain scalar (no YAML syntax smuggled in through values).
  return text !== null && /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(text) ? text : null;
}
