// Small JSON documents kept in kindler_state, each under a key that carries the schema of what it
// holds: a document is checked when read back, never cast. One kept by an older version that no
// longer fits reads as absent, and is replaced by the next write.
import type { z } from 'zod';

export interface StateKey<S extends z.ZodType> {
  readonly name: string;
  readonly schema: S;
}

export const stateKey = <S extends z.ZodType>(name: string, schema: S): StateKey<S> => ({
  name,
  schema,
});
