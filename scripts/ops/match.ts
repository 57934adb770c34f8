// `match`: which of the stack's rules an event matches and the exact input each target receives,
// from the program itself (local/evaluate.ts) through the bus the twin runs (declaredBus, its
// matcher and renderTargetInput): nothing deployed is needed.
import * as fs from "fs";
import { BusEvent } from "../../local/bus";
import { declaredBus } from "../../local/services/eventbridge";
import { evaluateProgram } from "../../local/evaluate";
import { ACCOUNT, REGION } from "../../local/account";

export interface MatchedTarget {
  id: string;
  arn: string;
  input?: string;
  error?: string;
}
export interface MatchedRule {
  rule: string;
  ruleArn: string;
  targets: MatchedTarget[];
}

/**
 * The event of a file: a bus event (source, detail-type, detail, ...) or a PutEvents entry
 * (Source, DetailType, Detail, EventBusName); the fields EventBridge adds get fixed values.
 */
export function readEvent(file: string): { event: BusEvent; busName?: string } {
  let raw: any;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new Error(`--event ${file}: not a JSON file (${(e as Error).message})`, { cause: e });
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw))
    throw new Error(`--event ${file}: must hold one event object`);
  const entry = "Source" in raw || "DetailType" in raw;
  const event: BusEvent = {
    version: "0",
    id: raw.id ?? "00000000-0000-0000-0000-000000000000",
    "detail-type": entry ? raw.DetailType : raw["detail-type"],
    source: entry ? raw.Source : raw.source,
    account: raw.account ?? ACCOUNT,
    time: raw.time ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: raw.region ?? REGION,
    resources: (entry ? raw.Resources : raw.resources) ?? [],
    detail: entry ? JSON.parse(raw.Detail ?? "null") : raw.detail,
    ...(raw["replay-name"] ? { "replay-name": raw["replay-name"] } : {}),
  };
  if (typeof event.source !== "string" || typeof event["detail-type"] !== "string")
    throw new Error(`--event ${file}: needs source and detail-type (or Source and DetailType)`);
  if (!event.detail || typeof event.detail !== "object")
    throw new Error(`--event ${file}: detail must be a JSON object`);
  return { event, busName: entry ? raw.EventBusName : undefined };
}

export async function match(
  stack: string,
  event: BusEvent,
  busName?: string,
): Promise<MatchedRule[]> {
  const program = await evaluateProgram(stack);
  const bus = declaredBus(program.resources, {
    log: () => undefined,
    retryDelayMs: () => 0,
    deliver: async () => undefined,
    deadLetter: async () => undefined,
  });
  const onBus = busName ?? bus.busNames.find((b) => b !== "default") ?? "default";
  // The event's own time is its ingestion time, as EventBridge stamps it on receipt.
  return bus.route(onBus, event, event.time).map(({ rule, targets }) => ({
    rule: rule.name,
    ruleArn: rule.arn,
    targets: targets.map((t) => ({
      id: t.target.id,
      arn: t.target.arn,
      ...("input" in t ? { input: t.input } : { error: t.error }),
    })),
  }));
}
