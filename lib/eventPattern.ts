/**
 * EventBridge event-pattern matcher.
 *
 * Pure and dependency-free so that the local EventBridge emulator and the infrastructure tests
 * agree with each other and with AWS about which rule an event reaches.
 *
 * Grammar and semantics follow "Content filtering in Amazon EventBridge event patterns"
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-content-based-filtering.html)
 * and, where the guide is silent, the open-source engine EventBridge is built on, aws/event-ruler
 * (JsonRuleCompiler.java, WildcardParser.java, CIDR.java, Range.java). Validation messages reuse
 * event-ruler's wording so that an error seen locally reads like the one PutRule would return.
 *
 * Rules implemented (the "why" for each branch lives next to the code):
 * - A pattern is a JSON object; every field is either a nested object or a non-empty array of
 *   match values. Fields are ANDed, array entries are ORed, `$or` ORs whole sub-patterns.
 * - Only leaf values (string, number, boolean, null) are matched. An array in the event matches
 *   if any element matches. Objects are never leaves, so `exists: true` on an object is false.
 * - A missing field matches nothing except `{"exists": false}`. In particular `anything-but`
 *   does not match a missing field, but does match null and values of other types.
 * - Exact matching is type-sensitive: "5" (string) never matches 5 (number); numbers compare
 *   numerically, so 5 matches 5.0.
 * - `numeric` only applies to JSON numbers; `prefix`, `suffix`, `equals-ignore-case`,
 *   `wildcard` and `cidr` only apply to JSON strings.
 *
 * Known deviations: a top-level `{}` is accepted and matches every event (the local runtime uses
 * it as "match all"; event-ruler would reject it as "Empty objects are not allowed"). Dotted
 * field names ("a.b") are not treated as paths, and the wildcard complexity limit AWS applies at
 * PutRule time is not enforced. When one object in an event array must satisfy several fields,
 * they must all come from the same array element (event-ruler's array-consistent matching).
 */

type JsonLeaf = string | number | boolean | null;
type PatternObject = { [key: string]: unknown };

/** Matchers whose names cannot be used as field names inside `$or` (event-ruler reserves them). */
const OPERATORS = new Set([
  "prefix",
  "suffix",
  "equals-ignore-case",
  "anything-but",
  "numeric",
  "exists",
  "cidr",
  "wildcard",
]);

const OR_KEY = "$or";

/** Error thrown for an invalid pattern; `path` names the offending field (dot-joined). */
export class EventPatternError extends Error {
  constructor(
    public readonly path: string,
    public readonly reason: string,
  ) {
    super(`Event pattern is not valid. Field "${path || "<root>"}": ${reason}`);
    this.name = "EventPatternError";
  }
}

/**
 * Returns true when `event` matches `pattern`. Invalid patterns throw (as TestEventPattern and
 * PutRule do in AWS) instead of silently matching nothing.
 */
export function matchesPattern(pattern: object | string, event: object): boolean {
  return compilePattern(pattern)(event);
}

/** Throws an EventPatternError naming the offending field if `pattern` is not a valid pattern. */
export function validatePattern(pattern: unknown): void {
  const parsed = parsePattern(pattern);
  // Top-level `{}` is tolerated on purpose: see the module comment.
  if (Object.keys(parsed).length > 0) {
    validateObject(parsed, "", false);
  }
}

/**
 * Validates once and returns a reusable predicate, so a runtime evaluating many events against
 * the same rule does not re-parse and re-validate the pattern for each event.
 */
export function compilePattern(pattern: object | string): (event: object) => boolean {
  const parsed = parsePattern(pattern);
  validatePattern(parsed);
  return (event: object) => matchObject(parsed, event);
}

function parsePattern(pattern: unknown): PatternObject {
  let value = pattern;
  if (typeof pattern === "string") {
    try {
      value = JSON.parse(pattern);
    } catch (err) {
      throw new EventPatternError("", `pattern is not valid JSON (${(err as Error).message})`);
    }
  }
  if (!isPlainObject(value)) {
    throw new EventPatternError("", "Filter is not an object");
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function validateObject(obj: PatternObject, path: string, insideOr: boolean): void {
  const keys = Object.keys(obj);
  if (keys.length === 0) {
    throw new EventPatternError(path, "Empty objects are not allowed");
  }
  for (const key of keys) {
    const value = obj[key];
    if (key === OR_KEY) {
      validateOr(value, path);
      continue;
    }
    const fieldPath = joinPath(path, key);
    if (insideOr && OPERATORS.has(key)) {
      // event-ruler forbids this so that `{"$or": [{"prefix": [...]}, ...]}` cannot be confused
      // with a misplaced match expression.
      throw new EventPatternError(
        fieldPath,
        `${key} is Ruler reserved fieldName which cannot be used inside $or.`,
      );
    }
    if (Array.isArray(value)) {
      validateLeaf(value, fieldPath);
    } else if (isPlainObject(value)) {
      validateObject(value, fieldPath, insideOr);
    } else {
      throw new EventPatternError(fieldPath, `"${key}" must be an object or an array`);
    }
  }
}

function validateOr(value: unknown, path: string): void {
  const orPath = joinPath(path, OR_KEY);
  if (!Array.isArray(value)) {
    throw new EventPatternError(orPath, "It must be an Array followed with $or.");
  }
  value.forEach((branch, i) => {
    if (!isPlainObject(branch)) {
      throw new EventPatternError(
        `${orPath}[${i}]`,
        "Only JSON object is allowed in array of $or relationship.",
      );
    }
    validateObject(branch, path, true);
  });
  if (value.length < 2) {
    throw new EventPatternError(orPath, "There must have at least 2 Objects in $or relationship.");
  }
}

function validateLeaf(values: unknown[], path: string): void {
  if (values.length === 0) {
    throw new EventPatternError(path, "Empty arrays are not allowed");
  }
  for (const v of values) {
    if (v === null || typeof v === "string" || typeof v === "boolean") continue;
    if (typeof v === "number") {
      if (!Number.isFinite(v)) throw new EventPatternError(path, "numbers must be finite");
      continue;
    }
    if (isPlainObject(v)) {
      validateMatchExpression(v, path);
      continue;
    }
    throw new EventPatternError(path, "Match value must be String, number, true, false, or null");
  }
}

function validateMatchExpression(expr: PatternObject, path: string): void {
  const keys = Object.keys(expr);
  if (keys.length === 0) {
    throw new EventPatternError(path, "Match expression name not found");
  }
  if (keys.length > 1) {
    throw new EventPatternError(path, "Only one key allowed in match expression");
  }
  const op = keys[0];
  const arg = expr[op];
  switch (op) {
    case "prefix":
    case "suffix":
      if (isPlainObject(arg)) {
        validateIgnoreCaseWrapper(arg, op, path);
      } else if (typeof arg !== "string") {
        throw new EventPatternError(path, `${op} match pattern must be a string`);
      }
      return;
    case "equals-ignore-case":
      if (typeof arg !== "string") {
        throw new EventPatternError(path, "equals-ignore-case match pattern must be a string");
      }
      return;
    case "wildcard":
      if (typeof arg !== "string") {
        throw new EventPatternError(path, "wildcard match pattern must be a string");
      }
      checkWildcard(arg, path);
      return;
    case "exists":
      if (typeof arg !== "boolean") {
        throw new EventPatternError(path, "exists match pattern must be either true or false.");
      }
      return;
    case "cidr":
      if (typeof arg !== "string") {
        throw new EventPatternError(path, "cidr match pattern must be a string");
      }
      parseCidr(arg, path);
      return;
    case "numeric":
      parseNumeric(arg, path);
      return;
    case "anything-but":
      validateAnythingBut(arg, path);
      return;
    default:
      throw new EventPatternError(path, `Unrecognized match type ${op}`);
  }
}

/** `{"prefix": {"equals-ignore-case": "x"}}` and the suffix equivalent. */
function validateIgnoreCaseWrapper(arg: PatternObject, op: string, path: string): void {
  const keys = Object.keys(arg);
  if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
    const name = keys[0] ?? "<none>";
    throw new EventPatternError(path, `Unsupported ${op} pattern: ${name}`);
  }
  if (typeof arg["equals-ignore-case"] !== "string") {
    throw new EventPatternError(path, "equals-ignore-case match pattern must be a string");
  }
}

function validateAnythingBut(arg: unknown, path: string): void {
  if (typeof arg === "string") return;
  if (typeof arg === "number") {
    if (!Number.isFinite(arg)) throw new EventPatternError(path, "numbers must be finite");
    return;
  }
  if (Array.isArray(arg)) {
    // event-ruler: the list must be all strings or all numbers; null/boolean/objects are rejected
    // and so is an empty list (it would be neither all-strings nor all-numbers).
    const strings = arg.filter((v) => typeof v === "string").length;
    const numbers = arg.filter((v) => typeof v === "number" && Number.isFinite(v)).length;
    if (strings + numbers !== arg.length) {
      throw new EventPatternError(
        path,
        "Inside anything but list, start|null|boolean is not supported.",
      );
    }
    if ((strings > 0 && numbers > 0) || arg.length === 0) {
      throw new EventPatternError(
        path,
        "Inside anything but list, either all values are number or string, " +
          "mixed type is not supported",
      );
    }
    return;
  }
  if (isPlainObject(arg)) {
    const keys = Object.keys(arg);
    if (keys.length === 0) {
      throw new EventPatternError(path, "Anything-But expression name not found");
    }
    if (keys.length > 1) {
      throw new EventPatternError(path, "Only one key allowed in anything-but expression");
    }
    const op = keys[0];
    if (!["equals-ignore-case", "prefix", "suffix", "wildcard"].includes(op)) {
      throw new EventPatternError(path, `Unsupported anything-but pattern: ${op}`);
    }
    const inner = arg[op];
    const list = Array.isArray(inner) ? inner : [inner];
    for (const v of list) {
      if (typeof v !== "string") {
        // Covers `{"anything-but": {"prefix": {"equals-ignore-case": ...}}}`, which AWS rejects.
        throw new EventPatternError(path, `anything-but/${op} match pattern must be a string`);
      }
      if ((op === "prefix" || op === "suffix") && v === "") {
        throw new EventPatternError(path, "Null prefix/suffix not allowed");
      }
      if (op === "wildcard") checkWildcard(v, path);
    }
    return;
  }
  throw new EventPatternError(
    path,
    "Value of anything-but must be an array or single string/number value.",
  );
}

interface NumericRange {
  eq?: number;
  lower?: { value: number; open: boolean };
  upper?: { value: number; open: boolean };
}

/**
 * event-ruler's numeric grammar: ["=", n] | [">"|">=", n] | [">"|">=", n, "<"|"<=", m] |
 * ["<"|"<=", n]. A lower bound must come first and must be below the upper bound.
 */
function parseNumeric(arg: unknown, path: string): NumericRange {
  if (!Array.isArray(arg)) {
    throw new EventPatternError(path, "Value of numeric must be an array.");
  }
  const num = (i: number, op: string): number => {
    const v = arg[i];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new EventPatternError(path, `Value of ${op} must be numeric`);
    }
    return v;
  };
  const op0 = arg[0];
  if (typeof op0 !== "string") {
    throw new EventPatternError(path, `Invalid member in numeric match: ${JSON.stringify(op0)}`);
  }
  const tooMany = (max: number): void => {
    if (arg.length > max) {
      throw new EventPatternError(path, "Too many elements in numeric expression");
    }
  };
  switch (op0) {
    case "=":
      tooMany(2);
      return { eq: num(1, op0) };
    case "<":
    case "<=":
      tooMany(2);
      return { upper: { value: num(1, op0), open: op0 === "<" } };
    case ">":
    case ">=": {
      const lower = { value: num(1, op0), open: op0 === ">" };
      if (arg.length === 2) return { lower };
      tooMany(4);
      const op1 = arg[2];
      if (op1 !== "<" && op1 !== "<=") {
        throw new EventPatternError(path, `Bad numeric range operator: ${String(op1)}`);
      }
      const upper = { value: num(3, op1), open: op1 === "<" };
      if (lower.value >= upper.value) {
        throw new EventPatternError(path, "Bottom must be less than top");
      }
      return { lower, upper };
    }
    default:
      throw new EventPatternError(path, `Unrecognized numeric range operator: ${op0}`);
  }
}

/** Mirrors event-ruler's WildcardParser: no `**`, and `\` may only escape `*` or `\`. */
function checkWildcard(value: string, path: string): void {
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === "*" && value[i + 1] === "*") {
      throw new EventPatternError(path, `Consecutive wildcard characters at pos ${i}`);
    }
    if (c === "\\") {
      const next = value[i + 1];
      if (next !== "*" && next !== "\\") {
        throw new EventPatternError(path, `Invalid escape character at pos ${i}`);
      }
      i++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Matching (patterns are validated before we get here, so casts below are safe)
// ---------------------------------------------------------------------------------------------

function matchObject(pattern: PatternObject, node: unknown): boolean {
  // An array of objects matches when one element satisfies the whole sub-pattern. An empty
  // array holds no fields at all, so it is evaluated like a missing node (exists:false holds).
  if (Array.isArray(node)) {
    if (node.length === 0) return matchObject(pattern, undefined);
    return node.some((element) => matchObject(pattern, element));
  }
  for (const key of Object.keys(pattern)) {
    const sub = pattern[key];
    if (key === OR_KEY) {
      if (!(sub as PatternObject[]).some((branch) => matchObject(branch, node))) return false;
      continue;
    }
    const child = isPlainObject(node) && Object.hasOwn(node, key) ? node[key] : undefined;
    const ok = Array.isArray(sub)
      ? matchLeaf(sub, child)
      : matchObject(sub as PatternObject, child);
    if (!ok) return false;
  }
  return true;
}

/** Leaf values found at a field: arrays are flattened, objects are not leaves. */
function leavesOf(value: unknown): JsonLeaf[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  if (value !== null && typeof value === "object") return [];
  return [value as JsonLeaf];
}

function matchLeaf(matchers: unknown[], value: unknown): boolean {
  const leaves = leavesOf(value);
  return matchers.some((m) => {
    if (isPlainObject(m) && "exists" in m) {
      return m.exists === true ? leaves.length > 0 : leaves.length === 0;
    }
    return leaves.some((leaf) => matchValue(m, leaf));
  });
}

function matchValue(matcher: unknown, v: JsonLeaf): boolean {
  if (matcher === null || typeof matcher === "boolean") return v === matcher;
  if (typeof matcher === "number") return typeof v === "number" && v === matcher;
  if (typeof matcher === "string") return typeof v === "string" && stringEquals(matcher, v);
  const expr = matcher as PatternObject;
  const op = Object.keys(expr)[0];
  const arg = expr[op];
  switch (op) {
    case "prefix":
      return typeof v === "string" && affixMatch(arg, v, "prefix");
    case "suffix":
      return typeof v === "string" && affixMatch(arg, v, "suffix");
    case "equals-ignore-case":
      return typeof v === "string" && foldCase(v) === foldCase(arg as string);
    case "wildcard":
      return typeof v === "string" && wildcardMatch(arg as string, v);
    case "numeric":
      return typeof v === "number" && inRange(parseNumeric(arg, ""), v);
    case "cidr":
      return typeof v === "string" && cidrMatch(parseCidr(arg as string, ""), v);
    case "anything-but":
      return !anythingButExcludes(arg, v);
    default:
      return false;
  }
}

/** True when `v` is one of the values an anything-but expression excludes. */
function anythingButExcludes(arg: unknown, v: JsonLeaf): boolean {
  if (typeof arg === "string" || typeof arg === "number") return v === arg;
  if (Array.isArray(arg)) return arg.includes(v);
  const expr = arg as PatternObject;
  const op = Object.keys(expr)[0];
  const list = ([] as unknown[]).concat(expr[op]) as string[];
  // Non-string values are never excluded by the string operators: AWS matches
  // {"anything-but": {"prefix": "init"}} against the number 12 and against null.
  if (typeof v !== "string") return false;
  switch (op) {
    case "prefix":
      return list.some((p) => v.startsWith(p));
    case "suffix":
      return list.some((s) => v.endsWith(s));
    case "equals-ignore-case":
      return list.some((s) => foldCase(s) === foldCase(v));
    case "wildcard":
      return list.some((w) => wildcardMatch(w, v));
    default:
      return false;
  }
}

function affixMatch(arg: unknown, v: string, kind: "prefix" | "suffix"): boolean {
  const test = (needle: string, hay: string): boolean =>
    kind === "prefix" ? hay.startsWith(needle) : hay.endsWith(needle);
  if (typeof arg === "string") return test(arg, v);
  const needle = (arg as PatternObject)["equals-ignore-case"] as string;
  return test(foldCase(needle), foldCase(v));
}

function foldCase(s: string): string {
  return s.toLowerCase();
}

/**
 * Exact string match. event-ruler turns an IP literal in a pattern into an address range, so
 * "::1" and "0:0:0:0:0:0:0:1" are the same value; everything else compares byte for byte.
 */
function stringEquals(pattern: string, v: string): boolean {
  if (pattern === v) return true;
  const a = parseIp(pattern);
  const b = a && parseIp(v);
  return !!a && !!b && a.length === b.length && compareBytes(a, b) === 0;
}

function inRange(range: NumericRange, v: number): boolean {
  if (range.eq !== undefined) return v === range.eq;
  if (range.lower && (range.lower.open ? v <= range.lower.value : v < range.lower.value)) {
    return false;
  }
  if (range.upper && (range.upper.open ? v >= range.upper.value : v > range.upper.value)) {
    return false;
  }
  return true;
}

const wildcardCache = new Map<string, RegExp>();

function wildcardMatch(pattern: string, v: string): boolean {
  let re = wildcardCache.get(pattern);
  if (!re) {
    let src = "";
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === "\\") {
        src += escapeRegExp(pattern[++i]);
      } else if (c === "*") {
        src += "[\\s\\S]*";
      } else {
        src += escapeRegExp(c);
      }
    }
    re = new RegExp(`^${src}$`);
    wildcardCache.set(pattern, re);
  }
  return re.test(v);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// ---------------------------------------------------------------------------------------------
// IP / CIDR
// ---------------------------------------------------------------------------------------------

interface Cidr {
  low: Uint8Array;
  high: Uint8Array;
}

/**
 * Follows event-ruler's CIDR.cidr: exactly one "/", mask 0..31 for IPv4 and 0..127 for IPv6
 * (it rejects /32 and /128; use a plain IP string for a single address). The range starts at
 * the address as written, not at the network address, which only matters for sloppy CIDRs.
 */
function parseCidr(cidr: string, path: string): Cidr {
  const parts = cidr.split("/");
  if (parts.length !== 2) {
    throw new EventPatternError(path, "Malformed CIDR, one '/' required");
  }
  if (!/^\d+$/.test(parts[1])) {
    throw new EventPatternError(path, "Malformed CIDR, mask bits must be an integer");
  }
  const maskBits = Number(parts[1]);
  const ip = parseIp(parts[0]);
  if (!ip) {
    throw new EventPatternError(path, `Invalid IP address: ${parts[0]}`);
  }
  const totalBits = ip.length * 8;
  if (maskBits > totalBits - 1) {
    const family = ip.length === 4 ? "IPv4" : "IPv6";
    throw new EventPatternError(path, `${family} mask bits must be < ${totalBits}`);
  }
  const high = new Uint8Array(ip);
  let hostBits = totalBits - maskBits;
  for (let i = high.length - 1; i >= 0 && hostBits > 0; i--) {
    high[i] |= hostBits >= 8 ? 0xff : (1 << hostBits) - 1;
    hostBits -= 8;
  }
  return { low: ip, high };
}

function cidrMatch(range: Cidr, v: string): boolean {
  const ip = parseIp(v);
  if (!ip || ip.length !== range.low.length) return false;
  return compareBytes(ip, range.low) >= 0 && compareBytes(ip, range.high) <= 0;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}

function parseIpv4(s: string): number[] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const bytes = m.slice(1).map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

/** Parses an IPv4 or IPv6 literal (with `::` compression and dotted IPv4 tail) into bytes. */
export function parseIp(s: string): Uint8Array | null {
  const v4 = parseIpv4(s);
  if (v4) return Uint8Array.from(v4);
  if (!s.includes(":") || !/^[0-9A-Fa-f:.]+$/.test(s)) return null;

  let tail: number[] = [];
  let head = s;
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const embedded = parseIpv4(s.slice(lastColon + 1));
    if (!embedded) return null;
    tail = embedded;
    // Keep the colon so "::1.2.3.4" still splits into an empty group before the tail.
    head = s.slice(0, lastColon + 1) + "0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const toGroups = (part: string): number[] | null => {
    if (part === "") return [];
    const groups = part.split(":");
    if (groups.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return null;
    return groups.map((g) => parseInt(g, 16));
  };
  const left = toGroups(halves[0]);
  const right = halves.length === 2 ? toGroups(halves[1]) : [];
  if (!left || !right) return null;
  if (tail.length) {
    // The placeholder "0" group stands for the two groups the IPv4 tail occupies.
    (halves.length === 2 ? right : left).pop();
  }
  const groupCount = 8 - tail.length / 2;
  const missing = groupCount - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  return Uint8Array.from([...bytes, ...tail]);
}

// ---------------------------------------------------------------------------------------------

function isPlainObject(v: unknown): v is PatternObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function joinPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}
