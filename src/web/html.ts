// Text into HTML: every value a page shows goes through esc() (the five characters that could
// end an attribute or open a tag are written as entities). Shared by the pages and their controls.

export const esc = (s: unknown): string =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
