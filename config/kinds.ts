// The kinds of `switchyard:` config keys: how a raw string is read, what the error says and how the
// docs show the default and the range. Pure (no Pulumi), so the docs script and tests read it too.

export const NAMESPACE = "switchyard";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** What is wrong with a value (the error's text without the key) and a value that would do. */
export class KeyProblem extends Error {
  constructor(
    message: string,
    public readonly example: string,
  ) {
    super(message);
    this.name = "KeyProblem";
  }
}

/** The command that sets `key` on `stack`. */
export function fixCommand(key: string, example: string, stack: string): string {
  return `pulumi config set ${NAMESPACE}:${key} ${example} --stack ${stack}`;
}

/** A preview error naming `switchyard:<key>`, the problem and the command that fixes it. */
export function keyError(key: string, problem: string, example: string, stack: string) {
  return new ConfigError(
    `${NAMESPACE}:${key} ${problem}. Fix it with: ${fixCommand(key, example, stack)}`,
  );
}

export type Kind =
  "bool" | "int" | "decimal" | "choice" | "enum" | "string" | "url" | "list" | "json";

/** One config key: how it is read and documented. */
export interface KeyDecl<T> {
  readonly kind: Kind;
  /** The docs' meaning column; `{range}` is replaced by `range`, else an int's range is appended. */
  readonly doc: string;
  /** The value when the key is not set. */
  readonly default: T;
  /** How the docs show the default. */
  readonly defaultDoc: string;
  /** The allowed values, as the docs show them. */
  readonly range?: string;
  /** Reads the raw value (undefined when not set); throws KeyProblem. */
  readonly read: (raw: string | undefined) => T;
}

interface Common {
  readonly doc: string;
  /** Said after the default in the docs, e.g. "no WAF". */
  readonly defaultNote?: string;
}

const code = (s: string) => "`" + s + "`";
const shown = (v: unknown, note?: string) =>
  (v === undefined ? "unset" : code(typeof v === "string" ? v : JSON.stringify(v))) +
  (note ? ` (${note})` : "");

export function bool(o: Common & { default: boolean }): KeyDecl<boolean> {
  return {
    kind: "bool",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    read: (s) => {
      if (s === undefined) return o.default;
      if (s !== "true" && s !== "false")
        throw new KeyProblem(`must be true or false, got "${s}"`, String(o.default));
      return s === "true";
    },
  };
}

interface IntOptions extends Common {
  readonly min: number;
  readonly max: number;
  /** How the docs show the range, when not `min-max`. */
  readonly range?: string;
  /** A further condition on a value within [min, max]. */
  readonly refine?: (v: number) => KeyProblem | undefined;
  /** Suggested in errors of a key without a default. */
  readonly example?: string;
}

export function int(o: IntOptions & { default: number }): KeyDecl<number>;
export function int(o: IntOptions & { default: undefined }): KeyDecl<number | undefined>;
export function int(o: IntOptions & { default: number | undefined }): KeyDecl<number | undefined> {
  const example = o.example ?? String(o.default);
  return {
    kind: "int",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    range: o.range ?? `${o.min}-${o.max}`,
    read: (s) => {
      if (s === undefined) return o.default;
      const v = Number(s);
      if (!/^-?\d+$/.test(s.trim()) || v < o.min || v > o.max) {
        throw new KeyProblem(
          `must be a whole number from ${o.min} to ${o.max}, got "${s}"`,
          example,
        );
      }
      const problem = o.refine?.(v);
      if (problem) throw problem;
      return v;
    },
  };
}

/** A decimal number in (`above`, `max`] such as 0.5: digits and an optional fraction, no sign or exponent. */
export function decimal(
  o: Common & { default: number; above: number; max: number },
): KeyDecl<number> {
  return {
    kind: "decimal",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    range: `above ${o.above} and at most ${o.max}`,
    read: (s) => {
      if (s === undefined) return o.default;
      const v = Number(s.trim());
      if (!/^\d+(\.\d+)?$/.test(s.trim()) || !(v > o.above && v <= o.max)) {
        throw new KeyProblem(
          `must be a number above ${o.above} and at most ${o.max} (decimals allowed, such as 0.5), got "${s}"`,
          String(o.default),
        );
      }
      return v;
    },
  };
}

/** One of a list of numbers. */
export function choice(
  o: Common & { default: number; values: readonly number[]; range?: string },
): KeyDecl<number> {
  return {
    kind: "choice",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    range: o.range ?? o.values.join(", "),
    read: (s) => {
      if (s === undefined) return o.default;
      const v = Number(s);
      if (!o.values.includes(v))
        throw new KeyProblem(
          `must be one of ${o.values.join(", ")}, got "${s}"`,
          String(o.default),
        );
      return v;
    },
  };
}

/** One of a list of words. */
export function oneOf<V extends string>(
  o: Common & { default: NoInfer<V>; values: readonly V[] },
): KeyDecl<V> {
  return {
    kind: "enum",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    range: o.values.map(code).join(", "),
    read: (s) => {
      const v = s ?? o.default;
      if (!(o.values as readonly string[]).includes(v))
        throw new KeyProblem(`must be one of ${o.values.join(", ")}, got "${v}"`, o.default);
      return v as V;
    },
  };
}

interface TextOptions extends Common {
  readonly pattern?: RegExp;
  readonly example?: string;
}

/** A string, matching `pattern` when given. */
export function text(o: TextOptions & { default: string }): KeyDecl<string>;
export function text(o: TextOptions & { default: undefined }): KeyDecl<string | undefined>;
export function text(
  o: TextOptions & { default: string | undefined },
): KeyDecl<string | undefined> {
  return {
    kind: "string",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    read: (s) => {
      if (s === undefined) return o.default;
      if (o.pattern && !o.pattern.test(s))
        throw new KeyProblem(`must match ${o.pattern}, got "${s}"`, o.example ?? "<value>");
      return s;
    },
  };
}

/** A required https:// URL without a trailing slash. */
export function url(o: Common & { example: string }): KeyDecl<string> {
  return {
    kind: "url",
    doc: o.doc,
    default: "",
    defaultDoc: "required",
    read: (s) => {
      if (s === undefined) throw new KeyProblem("is not set", o.example);
      let u: URL | undefined;
      try {
        u = new URL(s);
      } catch {
        u = undefined;
      }
      if (!u || u.protocol !== "https:" || s.endsWith("/"))
        throw new KeyProblem(
          `must be an https:// URL without a trailing slash, got "${s}"`,
          o.example,
        );
      return s;
    },
  };
}

/** A JSON list of strings, each matching `item` when given. */
export function list<V extends string = string>(
  o: Common & { default: V[]; item?: RegExp; example?: string },
): KeyDecl<V[]> {
  const example = o.example ?? '\'["a","b"]\'';
  return {
    kind: "list",
    doc: o.doc,
    default: o.default,
    defaultDoc: shown(o.default, o.defaultNote),
    read: (s) => {
      if (s === undefined) return o.default;
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        throw new KeyProblem(`must be a JSON list of strings, got "${s}"`, example);
      }
      if (
        !Array.isArray(v) ||
        v.some((x) => typeof x !== "string" || (o.item && !o.item.test(x)))
      ) {
        throw new KeyProblem(
          `must be a JSON list of strings${o.item ? ` matching ${o.item}` : ""}, got ${s}`,
          example,
        );
      }
      return v as V[];
    },
  };
}

/** A JSON value, checked by `check` (which throws a message without the key). */
export function json<T>(
  o: Common & {
    default: T;
    check: (v: unknown) => T;
    example: string;
    /** How the docs show the default, when not as JSON. */
    defaultDoc?: string;
  },
): KeyDecl<T> {
  return {
    kind: "json",
    doc: o.doc,
    default: o.default,
    defaultDoc: o.defaultDoc ?? shown(o.default, o.defaultNote),
    read: (s) => {
      if (s === undefined) return o.default;
      let v: unknown;
      try {
        v = JSON.parse(s);
      } catch {
        throw new KeyProblem(`must be JSON, got "${s}"`, o.example);
      }
      try {
        return o.check(v);
      } catch (e) {
        throw new KeyProblem((e as Error).message, o.example);
      }
    },
  };
}
