/**
 * EventBridge input-transformer renderer.
 *
 * Pure and dependency-free so that the local EventBridge emulator delivers exactly the payload
 * a target would receive in AWS, and infrastructure tests can check templates without deploying.
 *
 * Sources, in order of authority:
 * [UG]  "Amazon EventBridge input transformation", EventBridge User Guide
 *       https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html
 * [API] "InputTransformer", EventBridge API Reference
 *       https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_InputTransformer.html
 * [REC] Responses recorded against real AWS in LocalStack's AWS-validated snapshot tests
 *       (tests/aws/services/events/test_events_inputs.snapshot.json), used where [UG] is vague.
 *
 * Rules implemented:
 * - Variables come from InputPathsMap (JSONPath: dot notation, array indices, `*`) plus the
 *   reserved variables of [UG] "Predefined variables".
 * - Missing path: [UG] "Common issues": "If you specify a variable to match a JSON path that
 *   doesn't exist in the event, that variable isn't created and won't appear in the output."
 *   Concretely ([REC]): the placeholder is replaced by nothing. Inside quotes that leaves the
 *   surrounding text ("... detail <command>" -> "... detail "); as a bare JSON value it renders
 *   as an empty string (`"command": <command>` -> `"command": ""`). It never renders as null.
 * - Quoting: a JSON template may reference a variable inside a string ("<state>") or as a bare
 *   value (<state>). Inside quotes the value's text is inserted raw: [UG] "EventBridge doesn't
 *   escape values extracted by Input Path", so a value containing `"` yields invalid JSON. As a
 *   bare value the value is inserted as JSON: strings gain quotes ([UG] example "Simple JSON":
 *   `"instance" : <instance>` -> `"instance" : "i-0123456789"`), numbers/booleans/null/objects/
 *   arrays are inserted as JSON. That a quoted bare string is also escaped is inferred (it is what
 *   "inserted as JSON" means), not stated by [UG].
 * - An object or array referenced inside a string has its inner quotes removed ([UG] "Common
 *   issues": "EventBridge removes any internal quotes to ensure a valid string").
 * - String templates: [UG] "Simple string" `"instance <instance> is in <state>"` renders as
 *   `"instance i-0123456789 is in RUNNING"`, quotes included ([REC] shows the SQS body keeps them).
 * - <aws.events.event> and <aws.events.event.json> "can only be used as a value for a JSON field,
 *   as [their] contents are not escaped" [UG]; aws.events.event omits `detail` [UG] and, per
 *   [REC], renames `detail-type` to `detailType`.
 * - A JSON template is delivered minified ([UG], older revision: "The JSON that is passed to the
 *   target is minified"), so valid JSON output is re-serialised compactly.
 * - Validation ([API]): at most 100 InputPathsMap entries, keys match [A-Za-z0-9_-]+ (1..256
 *   chars) and may not start with "AWS."; template 1..8192 chars; a placeholder cannot be used as
 *   an object key; every placeholder must be defined (PutTargets rejects "InputTemplate for target
 *   ... contains invalid placeholder x." [REC]).
 *
 * Not emulated: target-specific quirks such as the CloudWatch Logs template format.
 */

export interface InputTransformer {
  inputPathsMap?: Record<string, string>;
  inputTemplate: string;
}

export interface TransformContext {
  ruleArn?: string;
  ruleName?: string;
  /** ISO 8601. Defaults to the event's `time`, which is what EventBridge stamps on receipt. */
  ingestionTime?: string;
}

export class InputTransformerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputTransformerError";
  }
}

export const RESERVED_VARIABLES = {
  ruleArn: "aws.events.rule-arn",
  ruleName: "aws.events.rule-name",
  ingestionTime: "aws.events.event.ingestion-time",
  event: "aws.events.event",
  eventJson: "aws.events.event.json",
} as const;

const RESERVED_NAMES = new Set<string>(Object.values(RESERVED_VARIABLES));
/** Reserved variables whose value is an unescaped JSON object ([UG] "Predefined variables"). */
const JSON_ONLY_NAMES = new Set<string>([RESERVED_VARIABLES.event, RESERVED_VARIABLES.eventJson]);

const MAX_PATHS = 100;
const MAX_KEY_LENGTH = 256;
const MAX_PATH_LENGTH = 256;
const MAX_TEMPLATE_LENGTH = 8192;
const KEY_PATTERN = /^[A-Za-z0-9_-]+$/;
/** "<" and ">" cannot be escaped in a template, so every <...> is a placeholder. */
const PLACEHOLDER = /<([^<>]+)>/y;

/** Throws an InputTransformerError describing the first problem found. */
export function validateInputTransformer(t: InputTransformer): void {
  if (typeof t !== "object" || t === null) {
    throw new InputTransformerError("InputTransformer must be an object");
  }
  const template: unknown = t.inputTemplate;
  if (typeof template !== "string") {
    throw new InputTransformerError("InputTemplate is required and must be a string");
  }
  if (template.length < 1 || template.length > MAX_TEMPLATE_LENGTH) {
    throw new InputTransformerError(
      `InputTemplate length must be between 1 and ${MAX_TEMPLATE_LENGTH} characters ` +
        `(got ${template.length})`,
    );
  }

  const paths: unknown = t.inputPathsMap ?? {};
  if (typeof paths !== "object" || paths === null || Array.isArray(paths)) {
    throw new InputTransformerError("InputPathsMap must be an object of name -> JSONPath");
  }
  const entries = Object.entries(paths as Record<string, unknown>);
  if (entries.length > MAX_PATHS) {
    throw new InputTransformerError(
      `InputPathsMap has ${entries.length} entries; at most ${MAX_PATHS} are allowed`,
    );
  }
  for (const [key, path] of entries) {
    if (key.toLowerCase().startsWith("aws.")) {
      throw new InputTransformerError(
        `InputPathsMap key "${key}" is invalid: keys starting with "aws." are reserved`,
      );
    }
    if (key.length > MAX_KEY_LENGTH || !KEY_PATTERN.test(key)) {
      throw new InputTransformerError(
        `InputPathsMap key "${key}" is invalid: keys must be 1-${MAX_KEY_LENGTH} characters ` +
          "of A-Z, a-z, 0-9, _ and -",
      );
    }
    if (typeof path !== "string" || path.length > MAX_PATH_LENGTH) {
      throw new InputTransformerError(
        `InputPathsMap value for "${key}" must be a JSONPath string of at most ` +
          `${MAX_PATH_LENGTH} characters`,
      );
    }
    try {
      parseJsonPath(path);
    } catch (err) {
      throw new InputTransformerError(
        `InputPathsMap value for "${key}" is not a valid JSONPath: ${(err as Error).message}`,
      );
    }
  }

  const defined = new Set(entries.map(([key]) => key));
  const { isJson, segments } = scanTemplate(template);
  for (const seg of segments) {
    if (seg.kind !== "var") continue;
    if (!defined.has(seg.name) && !RESERVED_NAMES.has(seg.name)) {
      throw new InputTransformerError(`InputTemplate contains invalid placeholder ${seg.name}.`);
    }
    if (seg.asKey) {
      throw new InputTransformerError(
        `InputTemplate uses placeholder <${seg.name}> as an object key, which is not allowed`,
      );
    }
    if (JSON_ONLY_NAMES.has(seg.name) && (seg.inString || !isJson)) {
      throw new InputTransformerError(
        `<${seg.name}> can only be used as the (unquoted) value of a JSON field, because its ` +
          "contents are not escaped",
      );
    }
  }
}

/**
 * Renders the payload EventBridge would send to the target. Returns text because AWS does:
 * for a JSON template it is (minified) JSON when the substituted values keep it valid, and the
 * raw substituted text otherwise; for a string template it is the quoted string.
 */
export function renderInputTransformer(
  t: InputTransformer,
  event: object,
  ctx: TransformContext = {},
): string {
  validateInputTransformer(t);
  const values = resolveVariables(t.inputPathsMap ?? {}, event, ctx);
  const { isJson, segments } = scanTemplate(t.inputTemplate);

  let out = "";
  for (const seg of segments) {
    out += seg.kind === "text" ? seg.text : formatValue(values.get(seg.name), seg.inString, isJson);
  }
  if (isJson) {
    try {
      return JSON.stringify(JSON.parse(out));
    } catch {
      // Deliberately not an error here: AWS delivers what it rendered. renderToJson reports it.
    }
  }
  return out;
}

/** Renders and parses; throws a clear error when the output is not valid JSON. */
export function renderToJson(
  t: InputTransformer,
  event: object,
  ctx: TransformContext = {},
): unknown {
  const rendered = renderInputTransformer(t, event, ctx);
  try {
    return JSON.parse(rendered);
  } catch (err) {
    const shown = rendered.length > 300 ? `${rendered.slice(0, 300)}...` : rendered;
    throw new InputTransformerError(
      `Input transformer output is not valid JSON (${(err as Error).message}). ` +
        `EventBridge does not escape values placed inside quotes. Output: ${shown}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Variables
// ---------------------------------------------------------------------------------------------

function resolveVariables(
  paths: Record<string, string>,
  event: object,
  ctx: TransformContext,
): Map<string, unknown> {
  const values = new Map<string, unknown>();
  for (const [name, path] of Object.entries(paths)) {
    values.set(name, evaluateJsonPath(event, path));
  }
  const record = event as Record<string, unknown>;
  const time = typeof record.time === "string" ? record.time : undefined;
  values.set(RESERVED_VARIABLES.ruleArn, ctx.ruleArn);
  values.set(RESERVED_VARIABLES.ruleName, ctx.ruleName);
  values.set(RESERVED_VARIABLES.ingestionTime, ctx.ingestionTime ?? time);
  values.set(RESERVED_VARIABLES.event, envelopeWithoutDetail(record));
  values.set(RESERVED_VARIABLES.eventJson, event);
  return values;
}

/** <aws.events.event>: the event without `detail`, with `detail-type` as `detailType` [REC]. */
function envelopeWithoutDetail(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === "detail") continue;
    out[key === "detail-type" ? "detailType" : key] = value;
  }
  return out;
}

type PathStep = { kind: "key"; name: string } | { kind: "index"; index: number } | { kind: "all" };

/**
 * Parses the JSONPath subset EventBridge supports ([UG] note: dot notation, dashes,
 * underscores, alphanumerics, array indices, wildcards, forward slashes): `$`, `$.a.b-c`,
 * `$.a[0]`, `$.a.*`, `$.a[*]`, plus `['key']` for keys that contain dots.
 */
export function parseJsonPath(path: string): PathStep[] {
  if (!path.startsWith("$")) throw new Error(`"${path}" must start with "$"`);
  const steps: PathStep[] = [];
  let i = 1;
  while (i < path.length) {
    const rest = path.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.\*/.exec(rest)) || (m = /^\[\*\]/.exec(rest))) {
      steps.push({ kind: "all" });
    } else if ((m = /^\.([^.[\]\s]+)/.exec(rest))) {
      steps.push({ kind: "key", name: m[1] });
    } else if ((m = /^\[(\d+)\]/.exec(rest))) {
      steps.push({ kind: "index", index: Number(m[1]) });
    } else if ((m = /^\['([^']*)'\]/.exec(rest)) || (m = /^\["([^"]*)"\]/.exec(rest))) {
      steps.push({ kind: "key", name: m[1] });
    } else {
      throw new Error(`unexpected "${rest}" in "${path}"`);
    }
    i += m[0].length;
  }
  return steps;
}

/**
 * Value at `path`, or undefined when any step is missing. A path containing a wildcard returns
 * the array of everything it reached (undefined if nothing).
 */
export function evaluateJsonPath(root: unknown, path: string): unknown {
  const steps = parseJsonPath(path);
  let nodes: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (step.kind === "key") {
        if (isRecord(node) && Object.hasOwn(node, step.name)) next.push(node[step.name]);
      } else if (step.kind === "index") {
        if (Array.isArray(node) && step.index < node.length) next.push(node[step.index]);
      } else if (Array.isArray(node)) {
        next.push(...node);
      } else if (isRecord(node)) {
        next.push(...Object.values(node));
      }
    }
    nodes = next;
  }
  if (steps.some((s) => s.kind === "all")) return nodes.length > 0 ? nodes : undefined;
  return nodes[0];
}

// ---------------------------------------------------------------------------------------------
// Template
// ---------------------------------------------------------------------------------------------

type Segment =
  { kind: "text"; text: string } | { kind: "var"; name: string; inString: boolean; asKey: boolean };

/**
 * Splits a template into literal text and placeholders, noting for each placeholder whether it
 * sits inside a JSON string literal (which decides how its value is inserted) and whether it is
 * used as an object key (which [API] forbids in JSON templates). A string template such as
 * `"a <x> b"` is one string literal, so its placeholders are "inside quotes".
 */
function scanTemplate(template: string): { isJson: boolean; segments: Segment[] } {
  // [API] treats a template "surrounded by curly braces" as JSON; arrays are JSON too.
  const isJson = /^\s*[[{]/.test(template);
  const segments: Segment[] = [];
  let text = "";
  let inString = false;
  let stringVars: Array<{ asKey: boolean }> = [];
  const followedByColon = (from: number): boolean => /^\s*:/.test(template.slice(from));

  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === "<") {
      PLACEHOLDER.lastIndex = i;
      const m = PLACEHOLDER.exec(template);
      if (m) {
        if (text) segments.push({ kind: "text", text });
        text = "";
        const end = i + m[0].length;
        const seg = {
          kind: "var" as const,
          name: m[1],
          inString,
          asKey: isJson && !inString && followedByColon(end),
        };
        segments.push(seg);
        if (inString) stringVars.push(seg);
        i = end;
        continue;
      }
    }
    if (inString && c === "\\") {
      text += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === '"') {
      if (inString && isJson && followedByColon(i + 1)) {
        // The string that just closed is an object key: placeholders in it are keys too.
        for (const seg of stringVars) seg.asKey = true;
      }
      inString = !inString;
      stringVars = [];
    }
    text += c;
    i++;
  }
  if (text) segments.push({ kind: "text", text });
  return { isJson, segments };
}

function formatValue(value: unknown, inString: boolean, isJson: boolean): string {
  if (value === undefined) {
    // Missing path: nothing is inserted; a bare JSON value becomes "" (see module comment).
    return isJson && !inString ? '""' : "";
  }
  const isStructured = typeof value === "object" && value !== null;
  if (inString) {
    if (typeof value === "string") return value; // raw: AWS does not escape
    if (isStructured) return JSON.stringify(value).replace(/"/g, "");
    return String(value);
  }
  if (isJson) return JSON.stringify(value);
  return typeof value === "string" ? value : isStructured ? JSON.stringify(value) : String(value);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
