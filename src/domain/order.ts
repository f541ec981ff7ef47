// One order for names, paths and keys, the same in every process: by UTF-16 code unit, as `<`
// compares strings (for the ASCII of names and paths, byte order, as git orders a tree).
// String.prototype.localeCompare follows the locale of the user who runs the process (LANG): under
// da_DK "aab" sorts after "zz", so a server and a CLI under different locales wrote the gateway's
// routes, an ApplicationSet's elements and a branch's files in different orders — and a process's
// first call costs some 8 ms setting up ICU's collation.

/** Compares by code unit: a sort's comparator for names, paths and keys. */
export const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
