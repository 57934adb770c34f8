// What each resource type's rehearsal receives and returns: the calls a type makes live in the
// service modules beside this one (events.ts, messaging.ts, ...), the order and the references in
// ../rehearsal.ts.
import type { Recorded } from "../mocks";
import type { Clients } from "./clients";

/**
 * Outputs the mocks compute (local/mocks.ts) that other resources' inputs carry, and that moto
 * answers with its own values: a REST API's id, a queue's URL, a stream's ARN.
 */
export type OutputName =
  | "id"
  | "arn"
  | "url"
  | "secretArn"
  | "invokeArn"
  | "functionUrl"
  | "streamArn"
  | "executionArn"
  | "invokeUrl"
  | "value";

/** One resource being created. */
export interface Step {
  readonly resource: Recorded;
  /** Inputs with secrets unwrapped and every reference replaced by the value moto gave. */
  readonly inputs: Record<string, any>;
  /** The physical name `pulumi up` would use, as the mocks do: the `name` input, else the logical name. */
  readonly name: string;
  readonly clients: Clients;
  readonly region: string;
  readonly account: string;
  /**
   * Sends one API call. `inputsOf` maps each API parameter the call carries (its leaf name, e.g.
   * `MaximumMessageSize`) to the Pulumi input it comes from (`maxMessageSize`): a rejection names
   * the resource, the operation, the inputs moto's message points at and moto's message.
   */
  send<T>(operation: string, inputsOf: Record<string, string>, call: () => Promise<T>): Promise<T>;
  /** Values one resource leaves for later ones of the same run (a REST API's root resource id). */
  readonly memo: Map<string, string>;
  /** Function code by function name (the archive `pulumi up` uploads), when the program declared it. */
  code(functionName: string): Promise<Buffer | undefined>;
  /** A remark for the report (a placeholder archive, a value moto keeps differently). */
  note(text: string): void;
}

/** What a created resource stands for in moto. */
export interface Applied {
  /** Moto's value of each output that later inputs may reference. */
  readonly outputs: Partial<Record<OutputName, string>>;
}

export type Apply = (step: Step) => Promise<Applied>;

/** A resource type the rehearsal creates: the API operations it calls, and how. */
export interface TypeRehearsal {
  /** The operations `pulumi up` calls for this type, in order (for the report). */
  readonly operations: string[];
  readonly apply: Apply;
}

/** Drops undefined fields, so a call carries only what the program set. */
export function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** `undefined` for an empty object or list, so an unset block is not sent as an empty one. */
export function nonEmpty<T>(v: T): T | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.length > 0 ? v : undefined;
  if (typeof v === "object")
    return Object.values(v as object).some((x) => x !== undefined) ? v : undefined;
  return v;
}

/** A value as SQS and SNS attributes carry it (strings). */
export function attr(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
}

/** The attribute map of `[apiName, value]` pairs that are set. */
export function attributes(pairs: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pairs)) {
    const s = attr(v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}
