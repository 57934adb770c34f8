// `replay`: StartReplay of the hub's archive onto its bus, then DescribeReplay until it ends.
// Which routes see a replay: only those whose rule accepts replayed events (`includeReplayed` on
// the route, and the debug route); every other rule's pattern requires `replay-name` to be absent
// (components/events/patterns.ts' withoutReplays), so replayed events pass them by.
import {
  DescribeReplayCommand,
  ListRulesCommand,
  StartReplayCommand,
} from "@aws-sdk/client-eventbridge";
import { acceptsReplays } from "../../components/events/patterns";
import { OpsContext, output } from "./context";

export interface ReplayArgs {
  from: Date;
  to: Date;
  /** A route name (routeRuleArns): only its rule sees the replay. */
  route?: string;
  name?: string;
}

/** The rules of the hub's bus that see replayed events, by ARN. */
export async function replayingRules(c: OpsContext): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const r = await c.clients.events.send(
      new ListRulesCommand({ EventBusName: output(c, "busName"), NextToken: token }),
    );
    for (const rule of r.Rules ?? [])
      if (
        !rule.ManagedBy &&
        rule.State === "ENABLED" &&
        acceptsReplays(JSON.parse(rule.EventPattern ?? "{}"))
      )
        out.set(rule.Arn!, rule.Name!);
    token = r.NextToken;
  } while (token);
  return out;
}

const TERMINAL = new Set(["COMPLETED", "CANCELLED", "FAILED"]);

export async function replay(
  c: OpsContext,
  a: ReplayArgs,
): Promise<{ name: string; state: string }> {
  if (!(a.from < a.to)) throw new Error("--from must be before --to");
  const busArn: string = output(c, "busArn");
  const archiveArn = busArn.replace(/:event-bus\/.*$/, `:archive/${output(c, "archiveName")}`);
  const accepting = await replayingRules(c);
  let filterArns: string[] | undefined;
  if (a.route) {
    const arn = (c.outputs.routeRuleArns ?? {})[a.route];
    if (!arn)
      throw new Error(
        `stack ${c.stack} has no route ${a.route}; routes: ${Object.keys(c.outputs.routeRuleArns ?? {}).join(", ")}`,
      );
    if (!accepting.has(arn))
      throw new Error(
        `route ${a.route} does not accept replayed events (its rule requires replay-name to be absent): a replay would reach nothing. Routes that do: ${[...accepting.values()].join(", ") || "none"}`,
      );
    filterArns = [arn];
  }
  const seen = filterArns ? filterArns.map((x) => accepting.get(x)!) : [...accepting.values()];
  const name =
    a.name ??
    `ops-${new Date()
      .toISOString()
      .replace(/[^0-9]/g, "")
      .slice(0, 14)}`;
  await c.clients.events.send(
    new StartReplayCommand({
      ReplayName: name,
      EventSourceArn: archiveArn,
      EventStartTime: a.from,
      EventEndTime: a.to,
      Destination: { Arn: busArn, ...(filterArns ? { FilterArns: filterArns } : {}) },
    }),
  );
  c.print(
    `replay ${name}: ${a.from.toISOString()} to ${a.to.toISOString()} from ${archiveArn.split("/").pop()}; seen by ${seen.join(", ") || "no rule"}`,
  );
  let last = "";
  for (;;) {
    const r = await c.clients.events.send(new DescribeReplayCommand({ ReplayName: name }));
    const state = r.State ?? "UNKNOWN";
    const progress = r.EventLastReplayedTime
      ? `, replayed up to ${r.EventLastReplayedTime.toISOString()}`
      : "";
    const line = `replay ${name}: ${state}${progress}${r.StateReason ? ` (${r.StateReason})` : ""}`;
    if (line !== last) c.print(line);
    last = line;
    if (TERMINAL.has(state)) return { name, state };
    await new Promise((res) => setTimeout(res, c.pollMs));
  }
}
