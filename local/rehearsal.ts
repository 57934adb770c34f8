// A rehearsal of `pulumi up` against moto: every resource the program declares that moto
// implements is created through the AWS SDK v3, with the parameters the AWS provider sends for its
// inputs, in dependency order, each reference to another resource replaced by the value moto gave
// that resource. A value moto rejects fails the rehearsal naming the Pulumi resource, the input
// and moto's message; a type moto (or the rehearsal) does not cover is reported as skipped, with
// the reason. The calls per type live in local/rehearsal/<service>.ts.
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import { functionArchives } from "../components/lambda";
import { archiveEntries } from "./artifacts";
import { ACCOUNT, arnFor, Recorded, REGION } from "./mocks";
import { apigatewayRehearsals, MOCK_ROOT_RESOURCE_ID } from "./rehearsal/apigateway";
import { clientsFor, destroyClients } from "./rehearsal/clients";
import { computeRehearsals } from "./rehearsal/compute";
import { eventsRehearsals } from "./rehearsal/events";
import { messagingRehearsals } from "./rehearsal/messaging";
import { monitoringRehearsals } from "./rehearsal/monitoring";
import type { OutputName, Step, TypeRehearsal } from "./rehearsal/step";
import { storageRehearsals } from "./rehearsal/storage";
import { wafRehearsals } from "./rehearsal/waf";
import { writeZip, ZipInput } from "../lib/zip";
import { allOrFirstFailure } from "./settled";

/** Every resource type the rehearsal creates, with the calls it makes. */
export const REHEARSALS: Readonly<Record<string, TypeRehearsal>> = {
  ...computeRehearsals,
  ...messagingRehearsals,
  ...storageRehearsals,
  ...eventsRehearsals,
  ...apigatewayRehearsals,
  ...monitoringRehearsals,
  ...wafRehearsals,
};

/** Types the program declares that the rehearsal does not create, and why. */
export const NOT_REHEARSED: Readonly<Record<string, string>> = {
  "aws:schemas/discoverer:Discoverer": "moto 5.2.1 does not implement EventBridge Schemas",
  "aws:schemas/registry:Registry": "moto 5.2.1 does not implement EventBridge Schemas",
  "aws:schemas/schema:Schema": "moto 5.2.1 does not implement EventBridge Schemas",
};

export { REHEARSAL_MOTO_ENV } from "./motoServer";

export interface RehearsalOptions {
  /** Region of every call. Default the mocks' region (eu-west-1). */
  readonly region?: string;
  /**
   * Function code archives by function name. Default the archives the program declared in this
   * process (`functionArchives`); a function without one gets a placeholder archive (noted).
   */
  readonly archives?: ReadonlyMap<string, pulumi.Input<pulumi.asset.AssetArchive>>;
  /**
   * Stop at the first value moto rejects (default true, as `pulumi up` does). With false, every
   * rejection is reported and the resources that depend on a rejected one are skipped.
   */
  readonly failFast?: boolean;
  /** One line per resource created, skipped or rejected. */
  readonly log?: (line: string) => void;
  /**
   * Resources to create before all others (with what they reference), e.g. the tables the local
   * runtime's functions need before their first invocation; `firstDone` is called once they exist.
   */
  readonly first?: (r: Recorded) => boolean;
  readonly firstDone?: () => void;
  /** Once aborted, no further call is made: the apply rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface RehearsedResource {
  readonly type: string;
  readonly name: string;
  /** The id moto gave it (what the provider would store as the resource's id). */
  readonly id?: string;
  readonly notes?: string[];
}

export interface SkippedResource {
  readonly type: string;
  readonly name: string;
  readonly reason: string;
}

export interface TypeCounts {
  created: number;
  skipped: number;
  rejected: number;
  /** The API operations the type's creation calls (empty when skipped). */
  operations: string[];
  /** Why resources of this type were skipped. */
  reasons: string[];
  /** Milliseconds spent creating resources of this type (moto's answers included). */
  ms: number;
}

export interface RehearsalReport {
  readonly endpoint: string;
  readonly durationMs: number;
  /** API calls sent to moto. */
  readonly calls: number;
  readonly byType: Record<string, TypeCounts>;
  readonly created: RehearsedResource[];
  readonly skipped: SkippedResource[];
  /** Values moto rejected (only with `failFast: false`; otherwise the first one throws). */
  readonly rejected: RehearsalError[];
  /** Each mock value (local/mocks.ts) that moto answered differently, and moto's value. */
  readonly references: Array<{ type: string; mock: string; moto: string }>;
}

/** A value moto rejected (or a call that could not be made), naming the Pulumi resource. */
export class RehearsalError extends Error {
  constructor(
    readonly resourceType: string,
    readonly resourceName: string,
    readonly operation: string,
    /** The Pulumi inputs moto's message points at (or all the call carried). */
    readonly inputs: string[],
    readonly code: string,
    readonly motoMessage: string,
    message: string,
  ) {
    super(message);
    this.name = "RehearsalError";
  }
}

// --- the mocks' values (local/mocks.ts): what references in other resources' inputs carry ---

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The outputs the mocks answered for a resource, that later inputs may carry (mirrors mocks.ts). */
export function mockOutputs(r: Recorded): Partial<Record<OutputName, string>> {
  const i = r.inputs;
  const n = i.name ?? r.name;
  const arn = arnFor(r.type, r.name, i);
  const out: Partial<Record<OutputName, string>> = { id: `${r.name}-id`, arn };
  switch (r.type) {
    case "aws:sqs/queue:Queue":
      out.url = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${n}`;
      break;
    case "aws:cloudwatch/eventConnection:EventConnection":
      out.secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:events!connection/${n}/0000-AbCdEf`;
      break;
    case "aws:lambda/function:Function":
      out.invokeArn = `arn:aws:apigateway:${REGION}:lambda:path/2015-03-31/functions/${arn}/invocations`;
      break;
    case "aws:lambda/functionUrl:FunctionUrl":
      out.functionUrl = `https://${r.name}.lambda-url.${REGION}.on.aws/`;
      break;
    case "aws:dynamodb/table:Table":
      if (i.streamEnabled) out.streamArn = `${arn}/stream/2026-01-01T00:00:00.000`;
      break;
    case "aws:apigateway/restApi:RestApi":
      out.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${r.name}`;
      break;
    case "aws:apigateway/stage:Stage":
      out.invokeUrl = `https://${i.restApi}.execute-api.${REGION}.amazonaws.com/${i.stageName}`;
      out.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${i.restApi}/${i.stageName}`;
      break;
    case "aws:apigateway/apiKey:ApiKey":
      out.value = `mock-key-value-${r.name}`;
      break;
  }
  return out;
}

/** The physical name the mocks gave (and `pulumi up` would, for a resource with a `name` input). */
const physicalName = (r: Recorded): string => r.inputs.name ?? r.name;

/** Whether a mock value is specific enough to be found inside a longer string (a policy, a URI). */
const embeddable = (v: string) => /^(arn:|https:\/\/)/.test(v);

/** Every string in an input value with the key it sits under (secrets unwrapped, assets left out). */
function* strings(v: unknown, key = ""): Generator<[string, string]> {
  if (typeof v === "string") yield [v, key];
  else if (Array.isArray(v)) for (const x of v) yield* strings(x, key);
  else if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o) yield* strings(o.value, key);
    else for (const [k, x] of Object.entries(o)) yield* strings(x, k);
  }
}

/**
 * The type whose id an input of this name takes. The mocks' ids are `<logical name>-id` whatever the
 * type, so a REST API and its deployment of the same name share one: the input says which it is.
 */
const ID_INPUTS: Readonly<Record<string, string[]>> = {
  restApi: ["aws:apigateway/restApi:RestApi"],
  apiId: ["aws:apigateway/restApi:RestApi"],
  resourceId: ["aws:apigateway/resource:Resource"],
  parentId: ["aws:apigateway/resource:Resource"],
  requestValidatorId: ["aws:apigateway/requestValidator:RequestValidator"],
  authorizerId: ["aws:apigateway/authorizer:Authorizer"],
  deployment: ["aws:apigateway/deployment:Deployment"],
  keyId: ["aws:apigateway/apiKey:ApiKey"],
  usagePlanId: ["aws:apigateway/usagePlan:UsagePlan"],
  bucket: ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"],
  secretId: ["aws:secretsmanager/secret:Secret"],
};

/** Of the resources whose mock value this is, those the input `key` can mean. */
function meant<T extends { type: string }>(owners: T[], key: string): T[] {
  if (owners.length < 2) return owners;
  const types = ID_INPUTS[key];
  const typed = types ? owners.filter((o) => types.includes(o.type)) : [];
  return typed.length > 0 ? typed : owners;
}

/** Inputs without the function's code (an asset, not a reference). */
const referencing = (r: Recorded) =>
  r.type === "aws:lambda/function:Function" ? { ...r.inputs, code: undefined } : r.inputs;

// --- order ---

/** Resources an input names by a name rather than an ARN or id, by type. */
function namedDependencies(r: Recorded, all: Recorded[]): Recorded[] {
  const i = r.inputs;
  const named = (type: string, name: unknown, extra: (x: Recorded) => boolean = () => true) =>
    typeof name === "string"
      ? all.filter((x) => x.type === type && physicalName(x) === name && extra(x))
      : [];
  const sameApi = (types: string[]) =>
    all.filter((x) => types.includes(x.type) && x.inputs.restApi === i.restApi);
  const stage = (api: unknown, stageName: unknown) =>
    all.filter(
      (x) =>
        x.type === "aws:apigateway/stage:Stage" &&
        x.inputs.restApi === api &&
        x.inputs.stageName === stageName,
    );
  switch (r.type) {
    case "aws:iam/rolePolicy:RolePolicy":
    case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
      return named("aws:iam/role:Role", i.role);
    case "aws:lambda/function:Function":
      return named("aws:cloudwatch/logGroup:LogGroup", i.loggingConfig?.logGroup);
    case "aws:lambda/permission:Permission":
      return named("aws:lambda/function:Function", i.function);
    case "aws:lambda/functionUrl:FunctionUrl":
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig":
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      return named("aws:lambda/function:Function", i.functionName);
    case "aws:cloudwatch/eventRule:EventRule":
      return named("aws:cloudwatch/eventBus:EventBus", i.eventBusName);
    case "aws:cloudwatch/eventTarget:EventTarget":
      return [
        ...named("aws:cloudwatch/eventBus:EventBus", i.eventBusName),
        ...named(
          "aws:cloudwatch/eventRule:EventRule",
          i.rule,
          (x) => (x.inputs.eventBusName ?? "default") === (i.eventBusName ?? "default"),
        ),
      ];
    case "aws:apigateway/method:Method":
      return Object.values<string>(i.requestModels ?? {}).flatMap((m) =>
        named("aws:apigateway/model:Model", m, (x) => x.inputs.restApi === i.restApi),
      );
    // API Gateway deploys what the API holds when the deployment is created.
    case "aws:apigateway/deployment:Deployment":
      return sameApi(["aws:apigateway/method:Method", "aws:apigateway/integration:Integration"]);
    case "aws:apigateway/methodSettings:MethodSettings":
      return stage(i.restApi, i.stageName);
    case "aws:apigateway/usagePlan:UsagePlan":
      return (i.apiStages ?? []).flatMap((a: { apiId: string; stage: string }) =>
        stage(a.apiId, a.stage),
      );
    default:
      return [];
  }
}

/**
 * The resources (in the order the mocks recorded them: each registered once its inputs resolved) in
 * an order where each comes after every resource it references: by the mocks' values its inputs
 * carry (ids, ARNs, URLs, also inside policies and URIs) and by the names some inputs take. Among
 * resources that are ready, the one declared first goes first, so the program's own order (where
 * Pulumi's dependsOn also holds) is kept.
 */
export function dependencyOrder(resources: Recorded[]): {
  order: Recorded[];
  dependsOn: Map<Recorded, Set<Recorded>>;
} {
  const index = new Map(resources.map((r, i) => [r, i]));
  const owner = new Map<string, Recorded[]>();
  for (const r of resources)
    for (const v of Object.values(mockOutputs(r)))
      if (v && v !== MOCK_ROOT_RESOURCE_ID) owner.set(v, [...(owner.get(v) ?? []), r]);
  const long = [...owner.keys()].filter(embeddable);
  const dependsOn = new Map<Recorded, Set<Recorded>>();
  for (const r of resources) {
    const deps = new Set<Recorded>(namedDependencies(r, resources));
    // A value can only have come from a resource registered before this one: the same value in
    // an earlier input was built from a name (a role's trust policy naming its state machine).
    const earlier = (o: Recorded) => index.get(o)! < index.get(r)!;
    for (const [s, key] of strings(referencing(r))) {
      for (const o of meant(owner.get(s) ?? [], key)) if (earlier(o)) deps.add(o);
      if (s.length > 20)
        for (const v of long)
          if (v !== s && s.includes(v)) for (const o of owner.get(v)!) if (earlier(o)) deps.add(o);
    }
    deps.delete(r);
    dependsOn.set(r, deps);
  }
  const order: Recorded[] = [];
  const done = new Set<Recorded>();
  const pending = [...resources];
  while (pending.length > 0) {
    const next = pending.findIndex((r) => [...dependsOn.get(r)!].every((d) => done.has(d)));
    if (next < 0)
      throw new Error(
        `the rehearsal found references in a cycle among: ${pending.map((r) => `${r.type} ${r.name}`).join(", ")}`,
      );
    const [r] = pending.splice(next, 1);
    order.push(r);
    done.add(r);
  }
  return { order, dependsOn };
}

/**
 * The order with the resources `first` selects, and everything they reference, moved to the front
 * (their relative order kept, so each still comes after what it references); `prefix` is how many.
 */
function firstOf(
  order: Recorded[],
  dependsOn: Map<Recorded, Set<Recorded>>,
  first: (r: Recorded) => boolean,
): { order: Recorded[]; prefix: number } {
  const wanted = new Set<Recorded>();
  const add = (r: Recorded) => {
    if (wanted.has(r)) return;
    wanted.add(r);
    for (const d of dependsOn.get(r) ?? []) add(d);
  };
  for (const r of order) if (first(r)) add(r);
  const front = order.filter((r) => wanted.has(r));
  return { order: [...front, ...order.filter((r) => !wanted.has(r))], prefix: front.length };
}

// --- references ---

/** Maps the mocks' values to moto's, in whole values and inside longer strings. */
class References {
  /** Every mapping, in the order the resources were created. */
  readonly all: Array<{ type: string; mock: string; moto: string }> = [];
  /** Moto's value of each mock value, by the type of the resource that gave it. */
  private readonly values = new Map<string, Array<{ type: string; moto: string }>>();
  private readonly embedded = new Map<string, string>();
  private pattern: RegExp | undefined;

  set(type: string, mock: string, moto: string): void {
    if (mock === moto) return;
    this.all.push({ type, mock, moto });
    this.values.set(mock, [...(this.values.get(mock) ?? []), { type, moto }]);
    if (embeddable(mock)) {
      this.embedded.set(mock, moto);
      this.pattern = undefined;
    }
  }

  /** An input value with secrets unwrapped and every mock value replaced by moto's. */
  resolve(v: unknown, key = ""): any {
    if (typeof v === "string") {
      const found = meant(this.values.get(v) ?? [], key);
      if (found.length > 1)
        throw new Error(
          `input ${key} = ${JSON.stringify(v)} could mean a resource of type ${found.map((f) => f.type).join(" or ")}: the rehearsal does not know which`,
        );
      return found[0]?.moto ?? this.replaceInside(v);
    }
    if (Array.isArray(v)) return v.map((x) => this.resolve(x, key));
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      if (SECRET_SIG in o) return this.resolve(o.value, key);
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, this.resolve(x, k)]));
    }
    return v;
  }

  private replaceInside(s: string): string {
    if (this.embedded.size === 0) return s;
    if (!this.pattern) {
      const keys = [...this.embedded.keys()].sort((a, b) => b.length - a.length);
      const escaped = keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      // A mock value ends where a name could not go on: `.../restapis/x-id` is not `x-id2`.
      this.pattern = new RegExp(`(?:${escaped.join("|")})(?![A-Za-z0-9_-])`, "g");
    }
    return s.replace(this.pattern, (m) => this.embedded.get(m) ?? m);
  }
}

// --- rejections ---

const normalize = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");

function inputValue(inputs: Record<string, any>, p: string): unknown {
  let v: any = inputs;
  for (const part of p.replace(/\[\]/g, "").split(".")) {
    if (Array.isArray(v)) v = v.map((x) => x?.[part]);
    else v = v?.[part];
  }
  return v;
}

function rejection(
  r: Recorded,
  operation: string,
  inputsOf: Record<string, string>,
  inputs: Record<string, any>,
  e: unknown,
): RehearsalError {
  const err = e as { name?: string; Code?: string; message?: string; $metadata?: object };
  const code = err.name ?? err.Code ?? "Error";
  const text = err.message ?? String(e);
  const said = normalize(text);
  // moto names the parameter ("Invalid value for the parameter MaximumMessageSize") or the value
  // it could not find ("Event bus missing-bus does not exist").
  const byName = Object.entries(inputsOf)
    .filter(([api]) => said.includes(normalize(api)))
    .map(([, input]) => input);
  const byValue = Object.values(inputsOf).filter((input) => {
    const v = inputValue(inputs, input);
    return typeof v === "string" && v.length >= 3 && text.includes(v);
  });
  const pointed = [...new Set(byName.length > 0 ? byName : byValue)];
  const named = pointed.length > 0 ? pointed : [...new Set(Object.values(inputsOf))];
  const show = (p: string) => {
    const v = inputValue(inputs, p);
    const s = v === undefined ? "unset" : JSON.stringify(v);
    return `${p} = ${s.length > 200 ? `${s.slice(0, 200)}...` : s}`;
  };
  const where =
    pointed.length > 0
      ? `input ${pointed.map(show).join(", ")}`
      : `one of the inputs ${named.join(", ")}`;
  const what = err.$metadata ? "moto rejected" : "the rehearsal could not send";
  return new RehearsalError(
    r.type,
    r.name,
    operation,
    named,
    code,
    text,
    `${what} ${r.type} "${r.name}" (${operation}), ${where}: ${code}: ${text}`,
  );
}

// --- code ---

/** The zip Lambda's CreateFunction takes for a declared code archive (its files, deflated). */
export async function archiveZip(
  archive: pulumi.Input<pulumi.asset.AssetArchive>,
): Promise<Buffer> {
  const entries: ZipInput[] = [];
  const addPath = (name: string, file: string) => {
    if (fs.statSync(file).isDirectory())
      for (const child of fs.readdirSync(file)) addPath(`${name}/${child}`, path.join(file, child));
    else entries.push({ name, data: fs.readFileSync(file) });
  };
  for (const e of await archiveEntries(archive)) {
    if (e.text !== undefined) entries.push({ name: e.name, data: Buffer.from(e.text) });
    else if (e.path) addPath(e.name, e.path);
  }
  return writeZip(entries);
}

// --- the rehearsal ---

function counts(report: Record<string, TypeCounts>, type: string): TypeCounts {
  return (report[type] ??= {
    created: 0,
    skipped: 0,
    rejected: 0,
    operations: [...(REHEARSALS[type]?.operations ?? [])],
    reasons: [],
    ms: 0,
  });
}

/** Why a resource of this type is not created, or undefined when it is. */
export function skipReason(type: string): string | undefined {
  if (REHEARSALS[type]) return undefined;
  if (!type.startsWith("aws:")) return "ComponentResource: groups its children, no AWS call";
  return NOT_REHEARSED[type] ?? "no rehearsal of this resource type yet";
}

/**
 * Creates in moto (at `endpoint`) every resource of `resources` that moto implements, as
 * `pulumi up` would, and reports per type what was created and what was skipped and why. Throws a
 * RehearsalError naming the resource, the input and moto's message when moto rejects a value.
 */
export async function applyToMoto(
  resources: Recorded[],
  endpoint: string,
  opts: RehearsalOptions = {},
): Promise<RehearsalReport> {
  const started = Date.now();
  const region = opts.region ?? REGION;
  const failFast = opts.failFast ?? true;
  const archives = opts.archives ?? functionArchives;
  const log = opts.log ?? (() => {});
  const clients = clientsFor(endpoint, region);
  const refs = new References();
  const memo = new Map<string, string>();
  const byType: Record<string, TypeCounts> = {};
  const created: RehearsedResource[] = [];
  const skipped: SkippedResource[] = [];
  const rejected: RehearsalError[] = [];
  const failed = new Map<Recorded, string>();
  let calls = 0;

  const skip = (r: Recorded, reason: string) => {
    const c = counts(byType, r.type);
    c.skipped++;
    if (!c.reasons.includes(reason)) c.reasons.push(reason);
    skipped.push({ type: r.type, name: r.name, reason });
    log(`skipped  ${r.type} ${r.name}: ${reason}`);
  };

  try {
    const { order: declared, dependsOn } = dependencyOrder(resources);
    const { order, prefix } = firstOf(declared, dependsOn, opts.first ?? (() => false));
    const one = async (r: Recorded): Promise<void> => {
      const reason = skipReason(r.type);
      if (reason) {
        skip(r, reason);
        return;
      }
      const blocker = [...dependsOn.get(r)!].find((d) => failed.has(d));
      if (blocker) {
        const why = `depends on ${blocker.type} ${blocker.name}, which moto rejected`;
        failed.set(r, why);
        skip(r, why);
        return;
      }
      let applied;
      const began = Date.now();
      const notes: string[] = [];
      try {
        const inputs = refs.resolve(referencing(r)) as Record<string, any>;
        const step: Step = {
          resource: r,
          inputs,
          name: physicalName(r),
          clients,
          region,
          account: ACCOUNT,
          memo,
          async send(operation, inputsOf, call) {
            opts.signal?.throwIfAborted();
            calls++;
            try {
              return await call();
            } catch (e) {
              throw rejection(r, operation, inputsOf, inputs, e);
            }
          },
          async code(functionName) {
            const archive = archives.get(functionName);
            return archive === undefined ? undefined : archiveZip(archive);
          },
          note: (text) => void notes.push(text),
        };
        applied = await REHEARSALS[r.type].apply(step);
      } catch (e) {
        // Stopped: not a rejection of this resource; nothing more is sent.
        if (opts.signal?.aborted) throw opts.signal.reason;
        const err =
          e instanceof RehearsalError
            ? e
            : new RehearsalError(
                r.type,
                r.name,
                "(references)",
                [],
                "Error",
                (e as Error).message,
                `the rehearsal could not resolve the inputs of ${r.type} "${r.name}": ${(e as Error).message}`,
              );
        if (failFast) throw err;
        rejected.push(err);
        counts(byType, r.type).rejected++;
        failed.set(r, err.message);
        log(`REJECTED ${err.message}`);
        return;
      }
      const mock = mockOutputs(r);
      for (const [k, v] of Object.entries(applied.outputs) as Array<[OutputName, string]>) {
        const m = mock[k];
        if (m && v) refs.set(r.type, m, v);
      }
      const c = counts(byType, r.type);
      c.created++;
      c.ms += Date.now() - began;
      created.push({
        type: r.type,
        name: r.name,
        id: applied.outputs.id,
        ...(notes.length ? { notes } : {}),
      });
      log(`created  ${r.type} ${r.name}${notes.length ? ` (${notes.join("; ")})` : ""}`);
    };
    // The resources `first` selects are created side by side where they do not reference each
    // other (the tables: the local run waits for them); then the rest, one at a time, in order.
    const front = order.slice(0, prefix);
    const done = new Set<Recorded>();
    while (done.size < front.length) {
      const ready = front.filter(
        (r) => !done.has(r) && [...dependsOn.get(r)!].every((d) => done.has(d)),
      );
      // Every call in flight ends before a failure is thrown: once the apply has ended, nothing
      // of it reaches moto_server.
      await allOrFirstFailure(ready.map(one));
      for (const r of ready) done.add(r);
    }
    opts.firstDone?.();
    for (const r of order.slice(prefix)) await one(r);
  } finally {
    destroyClients(clients);
  }
  return {
    endpoint,
    durationMs: Date.now() - started,
    calls,
    byType,
    created,
    skipped,
    rejected,
    references: refs.all,
  };
}

/** The report as text: one line per type (created, skipped and why, rejected), then totals. */
export function formatReport(report: RehearsalReport): string {
  const lines = Object.entries(report.byType)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, c]) => {
      const parts = [`${c.created} created${c.created ? ` in ${c.ms} ms` : ""}`];
      if (c.skipped) parts.push(`${c.skipped} skipped (${c.reasons.join("; ")})`);
      if (c.rejected) parts.push(`${c.rejected} rejected`);
      return `${type}: ${parts.join(", ")}`;
    });
  lines.push(
    `${report.created.length} created, ${report.skipped.length} skipped, ${report.rejected.length} rejected; ${report.calls} calls in ${report.durationMs} ms`,
  );
  for (const r of report.rejected) lines.push(`rejected: ${r.message}`);
  return lines.join("\n");
}
