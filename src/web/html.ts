// HTML is built with one tagged template: `html\`<p>${value}</p>\`` escapes every value it is
// given unless the value is already HTML (an `Html`, made only by `html` itself, or `trusted` for
// a constant of this code). So no page can forget to escape, and no text can pass for markup.

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text into HTML: the five characters that could end an attribute or open a tag, as entities. */
export const esc = (s: unknown): string => {
  const text = String(s ?? '');
  // Most text has none of them: given back as it is, not rebuilt.
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ENTITIES[c] as string) : text;
};
const SPECIAL = /[&<>"']/;
const SPECIALS = /[&<>"']/g;

/** Markup that is safe to write as it is. */
export class Html {
  private constructor(readonly text: string) {}
  /** Markup this code wrote itself (a constant, never a value from outside). */
  static trusted(text: string): Html {
    return new Html(text);
  }
  toString(): string {
    return this.text;
  }
}

/** What a page may put into `html`: markup, text to escape, lists of either, or nothing. */
export type Part = Html | string | number | null | undefined | false | readonly Part[];

const write = (part: Part): string => {
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map(write).join('');
  if (part === null || part === undefined || part === false) return '';
  return esc(part);
};

/**
 * The markup of this code with each run of whitespace as one space (as a browser reads it; the
 * layout of the source is for its readers), every part written as `write` says. Whitespace in
 * values, such as a log in a `<pre>`, is kept.
 */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  const layout = layoutOf(strings);
  let out = layout[0] as string;
  for (let i = 0; i < parts.length; i++) out += write(parts[i] as Part) + (layout[i + 1] as string);
  return Html.trusted(out);
}

// A template's strings are the same array at every call from one place: laid out once, not per
// row of a page of 200.
const layouts = new WeakMap<TemplateStringsArray, string[]>();
function layoutOf(strings: TemplateStringsArray): string[] {
  let layout = layouts.get(strings);
  if (!layout) {
    layout = strings.map((s) => s.replace(/\s+/g, ' '));
    layouts.set(strings, layout);
  }
  return layout;
}

/** Parts joined by `separator` (a line break unless told). */
export const joinHtml = (parts: readonly Part[], separator = '\n'): Html =>
  Html.trusted(parts.map(write).join(separator));
