// Reads a stack's `switchyard:` values through the key table and checks the rules between them.
// Pure (no Pulumi): `raw` is the stack's config, e.g. pulumi.Config#get or a plain map in tests.
import { ConfigError, KeyProblem, keyError } from "./kinds";
import { ConfigKey, ConfigValues, KEYS } from "./keys";
import { RULES } from "./rules";

/** Every key's typed value; throws the first bad value's or broken rule's ConfigError. */
export function readConfig(
  raw: (key: ConfigKey) => string | undefined,
  stack: string,
): ConfigValues {
  const values: Record<string, unknown> = {};
  for (const [key, decl] of Object.entries(KEYS)) {
    try {
      values[key] = decl.read(raw(key as ConfigKey));
    } catch (e) {
      if (!(e instanceof KeyProblem)) throw e;
      throw keyError(key, e.message, e.example, stack);
    }
  }
  const v = values as ConfigValues;
  for (const rule of RULES) {
    const error = rule.check(v, stack);
    if (error) throw error;
  }
  return v;
}

export { ConfigError };
