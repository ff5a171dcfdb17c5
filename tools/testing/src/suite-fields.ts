/**
 * The fields a suite helper (`useRedisSuite()` and the like) sets in its
 * `beforeAll`, as getters: each reads its value when a hook or test asks, and
 * fails plainly if that is before the suite has started.
 */
export function startedFields<T extends object>(helper: string, read: { [K in keyof T]: () => T[K] | undefined }): T {
  const fields = {} as T;
  for (const key of Object.keys(read) as (keyof T)[]) {
    Object.defineProperty(fields, key, {
      enumerable: true,
      get: () => {
        const value = read[key]();
        if (value === undefined) throw new Error(`${helper}: read its fields inside a hook or test, once the suite has started`);
        return value;
      },
    });
  }
  return fields;
}
