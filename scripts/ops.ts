// npm run ops -- <command>: operator tools for the event hub, against a deployed stack
// (--stack dev|prod: its outputs from the Pulumi CLI, or --outputs <saved outputs>) or the local
// run (--local: the endpoints file `npm start` writes). docs/ops.md describes every command;
// docs/runbook.md says what to do when the DLQ alarm fires.
import "../local/polyfills";
import { closeContext, opsContext } from "./ops/context";
import { list, show } from "./ops/dlq";
import { match, readEvent } from "./ops/match";
import { redrive, releaseClaims } from "./ops/redrive";
import { replay } from "./ops/replay";
import { tail } from "./ops/tail";

export const USAGE = `usage: npm run ops -- <command> [--stack dev|prod | --outputs <file> | --local [--endpoints <file>]]
  dlq list [--json]                       every dead-lettered event: rule, target, error, retries
  dlq show <event id | message id>        one dead letter, and the input its target receives
  dlq redrive [<event id | message id>] [--rule R] [--target T] [--since <ISO>] [--dry-run]
                                          re-deliver each (or that one) to the target that
                                          failed it, once
  dlq release <event id> [--target <ARN>] let the next redrive deliver a claim left in doubt
  replay --from <ISO> --to <ISO> [--route R] [--name N]
                                          replay the archive; report until the replay completes
  match --event <file> [--stack S] [--json]
                                          the rules an event matches and each target's input
  tail [--since <seq | ISO>] [--count N] [--seconds N] [--json] [--all]
                                          the bus's events as they flow (--all, locally: the
                                          journal's webhooks, executions, queues too)`;

const BOOLEAN_FLAGS = ["local", "dry-run", "json", "all"];

/** Positional words and `--flag value` (or `--flag=value`) pairs; boolean flags take no value. */
export function parseOpsArgs(argv: string[]) {
  const positional: string[] = [];
  const flags: Record<string, string[]> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) {
      positional.push(a);
      continue;
    }
    const [k, inline] = a.slice(2).split(/=(.*)/s, 2);
    if (BOOLEAN_FLAGS.includes(k)) {
      flags[k] = ["true"];
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value\n${USAGE}`);
    (flags[k] ??= []).push(v);
  }
  return { positional, flags };
}

function time(flags: Record<string, string[]>, name: string, required: true): Date;
function time(flags: Record<string, string[]>, name: string, required?: false): Date | undefined;
function time(flags: Record<string, string[]>, name: string, required = false) {
  const raw = flags[name]?.[0];
  if (raw === undefined) {
    if (required)
      throw new Error(`--${name} <ISO time> is required, e.g. --${name} 2026-12-01T00:00:00Z`);
    return undefined;
  }
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new Error(`--${name} must be an ISO time, got ${raw}`);
  return d;
}

export async function main(
  argv: string[],
  print = (s: string) => console.log(s),
): Promise<unknown> {
  const { positional, flags } = parseOpsArgs(argv);
  const [command, sub, id] = positional;
  if (!command) throw new Error(USAGE);
  if (command === "match") {
    const file = flags.event?.[0];
    if (!file) throw new Error(`match needs --event <file>\n${USAGE}`);
    const { event, busName } = readEvent(file);
    const stack = flags.stack?.[0] ?? "dev";
    const matched = await match(stack, event, busName);
    if (flags.json) print(JSON.stringify(matched, null, 2));
    else {
      for (const r of matched) {
        print(`rule ${r.rule}`);
        for (const t of r.targets)
          print(
            `  target ${t.id} ${t.arn}\n    ${t.input !== undefined ? `input ${t.input}` : `cannot render: ${t.error}`}`,
          );
      }
      print(`${matched.length} rule(s) of stack ${stack} match`);
    }
    return matched;
  }
  const c = opsContext(flags, print);
  try {
    switch (command) {
      case "dlq":
        switch (sub) {
          case "list":
            return await list(c, Boolean(flags.json));
          case "show":
            if (!id) throw new Error(`dlq show needs an event id or message id\n${USAGE}`);
            return await show(c, id);
          case "redrive":
            return await redrive(c, {
              id,
              rule: flags.rule?.[0],
              target: flags.target?.[0],
              since: time(flags, "since"),
              dryRun: Boolean(flags["dry-run"]),
            });
          case "release":
            if (!id) throw new Error(`dlq release needs an event id\n${USAGE}`);
            return await releaseClaims(c, id, flags.target?.[0]);
        }
        throw new Error(`unknown dlq command ${sub ?? ""}\n${USAGE}`);
      case "replay":
        return await replay(c, {
          from: time(flags, "from", true),
          to: time(flags, "to", true),
          route: flags.route?.[0],
          name: flags.name?.[0],
        });
      case "tail":
        return await tail(c, {
          since: flags.since?.[0],
          count: flags.count ? Number(flags.count[0]) : undefined,
          seconds: flags.seconds ? Number(flags.seconds[0]) : undefined,
          json: Boolean(flags.json),
          all: Boolean(flags.all),
        });
    }
    throw new Error(`unknown command ${command}\n${USAGE}`);
  } finally {
    closeContext(c);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (e: Error) => {
      console.error(e.message);
      process.exit(1);
    },
  );
}
