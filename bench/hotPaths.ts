// Hot paths: work done per event or per delivery, timed over a fixed number of iterations.
import { compilePattern } from "../lib/eventPattern";
import { InputTransformer, renderInputTransformer } from "../lib/inputTransformer";
import { summarize, Summary, timeEach } from "./stats";

export interface DeclaredRule {
  name: string;
  pattern: Record<string, unknown>;
}

export interface DeclaredTransformer {
  /** `<rule>/<target>` */
  name: string;
  transformer: InputTransformer;
  /** An event of the rule it renders. */
  event: object;
  ruleName: string;
}

export interface PatternResult extends Summary {
  rules: number;
  events: number;
  /** Rules matched per event, on average. */
  matchesPerEvent: number;
}

/** Matches each event against every rule (patterns compiled once, as the local bus does). */
export async function benchPatternMatching(
  rules: DeclaredRule[],
  events: object[],
  iterations: number,
): Promise<PatternResult> {
  const compiled = rules.map((r) => compilePattern(r.pattern));
  let matched = 0;
  const samples = await timeEach((i) => {
    const ev = events[Math.abs(i) % events.length];
    let m = 0;
    for (const c of compiled) if (c(ev)) m++;
    if (i >= 0) matched += m;
  }, iterations);
  return {
    ...summarize(samples),
    rules: rules.length,
    events: events.length,
    matchesPerEvent: matched / iterations,
  };
}

/** Renders each declared transformer against an event of its rule. */
export async function benchTransformers(
  targets: DeclaredTransformer[],
  iterations: number,
): Promise<Summary & { transformers: number }> {
  if (targets.length === 0) throw new Error("benchTransformers: no transformer declared");
  const ctx = (t: DeclaredTransformer) => ({
    ruleName: t.ruleName,
    ruleArn: `arn:aws:events:eu-west-1:123456789012:rule/${t.ruleName}`,
  });
  const samples = await timeEach((i) => {
    const t = targets[Math.abs(i) % targets.length];
    renderInputTransformer(t.transformer, t.event, ctx(t));
  }, iterations);
  return { ...summarize(samples), transformers: targets.length };
}
