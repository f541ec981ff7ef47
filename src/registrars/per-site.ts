// A system kept in several places: a site's own (KINDLER_SITES), else the devops side's (null
// when that is not configured either). Which one serves an environment is a pure function of its
// site.

/** One place: the site it belongs to (null: the devops side's) and what is kept there. */
export interface Placed<T> {
  site: string | null;
  value: T;
}

export class PerSite<T> {
  protected bySite: Map<string, T>;

  constructor(
    protected main: T | null,
    own: Iterable<[string, T]> = [],
  ) {
    this.bySite = new Map(own);
  }

  /** From now on, the places `other` holds (built for the sites declared since). */
  adopt(other: PerSite<T>): void {
    this.main = other.main;
    this.bySite = other.bySite;
  }

  /** What serves environments of `site`; null: nothing is configured for it. */
  of(site: string | undefined): T | null {
    return (site !== undefined && this.bySite.get(site)) || this.main;
  }

  /** Whose place serves `site`: the site's own, null for the devops side's, undefined for none. */
  keyOf(site: string | undefined): string | null | undefined {
    if (site !== undefined && this.bySite.has(site)) return site;
    return this.main ? null : undefined;
  }

  /** Every place, the devops side's first. */
  all(): Placed<T>[] {
    return [
      ...(this.main ? [{ site: null, value: this.main }] : []),
      ...[...this.bySite].map(([site, value]) => ({ site, value })),
    ];
  }
}
