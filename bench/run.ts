// `npm run bench`: evaluates the program under Pulumi mocks, then measures every declared Lambda
// function (archive sizes against default CallbackFunction packaging, cold load against an empty
// handler), the hot paths (webhook delivery, pattern matching, transformer rendering) and the
// publisher's batching. Prints tables and pass/fail per target, writes bench/results.json.
// A benchmark, not a test: it exits 0 whatever it measures (1 only if it cannot run at all).
//
// Knobs: BENCH_STACK (dev), BENCH_COLD_RUNS (5), BENCH_ITERATIONS (2000), BENCH_WEBHOOK_ITERATIONS (300).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
require("../test/setup");

import { ArchiveMeasure, ArchiveSizer, defaultCodeFolders, measureArchive } from "./archives";
import { coldStartOnce, ColdSample, startStubEndpoint } from "./coldStart";
import {
  benchPatternMatching,
  benchTransformers,
  DeclaredRule,
  DeclaredTransformer,
} from "./hotPaths";
import { bulkEntries, publisherEfficiency } from "./publisherBench";
import { realisticEvents, witnessEvent } from "./samples";
import { median, ratio } from "./stats";
import { benchWebhook } from "./webhook";
import { matchesPattern } from "../lib/eventPattern";
import type { BundleReport } from "../components/lambda";

/** The performance targets the bench reports against. */
export const TARGETS = {
  maxZippedBytes: 512 * 1024,
  maxColdRatio: 1.5,
  minEntriesPerCall: 9,
};

const EMPTY = "bench-empty-handler";
const SDK_FLOOR = "bench-sdk-clients-only";
const ONE_CALL = "bench-one-aws-call";
const int = (k: string, d: number) => (process.env[k] ? Math.max(1, Number(process.env[k])) : d);

const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
const mb = (b: number) => (b >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(2)} MB` : kb(b));
const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
const pass = (ok: boolean) => (ok ? "PASS" : "FAIL");

/** Prints rows as an aligned text table. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    line(headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...cells.slice(1).map(line),
  ].join("\n");
}

interface Target {
  name: string;
  target: string;
  value: string;
  pass: boolean;
}

async function main(): Promise<void> {
  const stack = process.env.BENCH_STACK ?? "dev";
  const coldRuns = int("BENCH_COLD_RUNS", 5);
  const iterations = int("BENCH_ITERATIONS", 2000);
  const webhookIterations = int("BENCH_WEBHOOK_ITERATIONS", 300);
  const results: Record<string, any> = {
    generatedAt: new Date().toISOString(),
    stack,
    node: process.version,
    machine: `${os.cpus()[0]?.model ?? "unknown"} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
    targets: [] as Target[],
  };
  const targets: Target[] = results.targets;
  const section = async (title: string, fn: () => Promise<void>) => {
    console.log(`\n== ${title} ==`);
    try {
      await fn();
    } catch (e) {
      console.log(`  could not measure: ${(e as Error).stack ?? e}`);
      results[`${title} error`] = String((e as Error).message ?? e);
    }
  };

  console.log(`Switchyard bench: stack ${stack}, ${results.machine}, Node ${process.version}`);
  const { evaluateProgram } = require("../test/program");
  const { settle } = require("../local/mocks");
  const program = await evaluateProgram(stack);
  const { bundleReports, functionArchives, SwitchyardFunction } = require("../components/lambda");
  const declared: string[] = [...functionArchives.keys()];
  // The reference functions (bench/referenceHandlers.ts), bundled like the declared ones.
  for (const [name, factory] of [
    [EMPTY, "createEmpty"],
    [SDK_FLOOR, "createSdkClientsOnly"],
    [ONE_CALL, "createOneAwsCall"],
  ])
    new SwitchyardFunction(name, {
      logRetentionDays: 1,
      grants: [],
      handler: { module: "bench/referenceHandlers", factory },
    });
  await settle();
  console.log(`Declared functions (${declared.length}): ${declared.join(", ") || "none"}`);
  const fnInputs = (name: string) =>
    program.resources.find((r: any) => r.type === "aws:lambda/function:Function" && r.name === name)
      ?.inputs ?? {};

  await section("Archives: ours vs default CallbackFunction packaging", async () => {
    const sizer = new ArchiveSizer();
    const defaults = await defaultCodeFolders();
    const rows: ArchiveMeasure[] = [];
    for (const name of declared)
      rows.push(await measureArchive(name, functionArchives.get(name), defaults, sizer));
    results.archives = rows;
    console.log(
      table(
        [
          "function",
          "zipped",
          "unpacked",
          "files",
          "default zipped",
          "default unpacked",
          "default files",
          "default/ours zipped",
          "unpacked",
          "files",
          "<= 512 KB",
        ],
        rows.map((r) => [
          r.function,
          kb(r.ours.zippedBytes),
          mb(r.ours.unpackedBytes),
          r.ours.files,
          mb(r.defaults.zippedBytes),
          mb(r.defaults.unpackedBytes),
          r.defaults.files,
          `${r.zippedRatio}x`,
          `${r.unpackedRatio}x`,
          `${r.filesRatio}x`,
          pass(r.ours.zippedBytes <= TARGETS.maxZippedBytes),
        ]),
      ),
    );
    // What each function's one-file bundle is made of (components/lambda.ts bundleArchive).
    const reports = new Map<string, BundleReport>();
    for (const name of declared)
      reports.set(name, await new Promise<BundleReport>((r) => bundleReports.get(name)!.apply(r)));
    results.bundles = Object.fromEntries(reports);
    const sources = [
      ...new Set([...reports.values()].flatMap((r) => Object.keys(r.inputs))),
    ].sort();
    console.log(
      "\n  What each bundled __index.js holds, KB unpacked (the AWS SDK is the runtime's, required on first use):",
    );
    console.log(
      table(
        [
          "function",
          ...sources.map((s) => s.replace("@aws-lambda-powertools/", "powertools/")),
          "runtime SDK packages",
        ],
        declared.map((n) => {
          const r = reports.get(n)!;
          return [
            n,
            ...sources.map((s) => (r.inputs[s] ? (r.inputs[s] / 1024).toFixed(1) : "-")),
            r.external.map((e) => e.replace("@aws-sdk/", "")).join(" "),
          ];
        }),
      ).replace(/^/gm, "  "),
    );
    const worst = rows.reduce((a, r) => Math.max(a, r.ours.zippedBytes), 0);
    targets.push({
      name: "every archive zipped",
      target: `<= ${kb(TARGETS.maxZippedBytes)}`,
      value: rows.length ? `largest ${kb(worst)}` : "no function declared",
      pass: rows.length > 0 && worst <= TARGETS.maxZippedBytes,
    });
  });

  await section(
    `Cold load: median of ${coldRuns} fresh processes, first invocation served`,
    async () => {
      const stub = await startStubEndpoint();
      const { materialize } = require("../local/artifacts");
      try {
        const all = [EMPTY, SDK_FLOOR, ONE_CALL, ...declared];
        const dirs = new Map<string, string>();
        for (const n of all) dirs.set(n, await materialize(functionArchives.get(n)));
        // Nothing leaves this machine: the SDK sends to a queue URL's own host, and a function may be
        // given other https URLs (the records API), so every such value points at the stub too.
        const onStub = (v: string) =>
          typeof v === "string" ? v.replace(/^https:\/\/[^/]+/, stub.url) : v;
        const envOf = (n: string, init: InitType): Record<string, string> => ({
          ...Object.fromEntries(
            Object.entries<string>(fnInputs(n).environment?.variables ?? {}).map(([k, v]) => [
              k,
              onStub(v),
            ]),
          ),
          AWS_ENDPOINT_URL: stub.url,
          AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fnInputs(n).memorySize ?? 256),
          AWS_LAMBDA_INITIALIZATION_TYPE: init,
        });
        type InitType = "on-demand" | "provisioned-concurrency";
        const inits: InitType[] = ["on-demand", "provisioned-concurrency"];
        const samples = new Map<string, ColdSample[]>(
          all.flatMap((n) => inits.map((i) => [`${n}|${i}`, []] as [string, ColdSample[]])),
        );
        // Interleaved, so drift on the machine affects every function alike.
        for (let r = 0; r < coldRuns; r++) {
          for (const init of inits) {
            for (const n of all) {
              const before = stub.calls();
              let sample: ColdSample;
              try {
                sample = await coldStartOnce(dirs.get(n)!, envOf(n, init), undefined, n);
              } catch (e) {
                sample = {
                  totalMs: NaN,
                  loadMs: NaN,
                  outcome: `init failed: ${(e as Error).message.split("\n")[0].slice(0, 120)}`,
                };
              }
              samples.get(`${n}|${init}`)!.push({ ...sample, awsCalls: stub.calls() - before });
            }
          }
        }
        const summary = (n: string, init: InitType) => {
          const s = samples.get(`${n}|${init}`)!;
          const ok = s.filter((x) => !Number.isNaN(x.totalMs));
          return {
            medianMs: ok.length ? median(ok.map((x) => x.totalMs)) : NaN,
            loadMs: ok.length ? median(ok.map((x) => x.loadMs)) : NaN,
            outcomes: [...new Set(s.map((x) => x.outcome))],
            awsCalls: Math.max(...s.map((x) => x.awsCalls ?? 0)),
          };
        };
        const floor = summary(EMPTY, "on-demand").medianMs;
        const sdkFloor = summary(SDK_FLOOR, "on-demand").medianMs;
        const oneCall = summary(ONE_CALL, "on-demand").medianMs;
        const rows = all.map((n) => {
          const od = summary(n, "on-demand");
          const pc = summary(n, "provisioned-concurrency");
          return {
            function: n,
            medianMs: od.medianMs,
            loadMs: od.loadMs,
            ratio: ratio(od.medianMs, floor),
            outcomes: od.outcomes,
            awsCalls: od.awsCalls,
            withClientsMs: pc.medianMs,
            withClientsLoadMs: pc.loadMs,
            withClientsRatio: ratio(pc.medianMs, floor),
            withClientsVsSdkFloor: ratio(pc.medianMs, sdkFloor),
          };
        });
        results.cold = {
          runs: coldRuns,
          floorMs: floor,
          sdkFloorMs: sdkFloor,
          oneCallMs: oneCall,
          functions: rows,
          stubCalls: stub.calls(),
        };
        const answeredLocally = (r: (typeof rows)[number]) => r.awsCalls === 0;
        console.log(
          table(
            [
              "function",
              "cold median",
              "load __index.js",
              "vs empty",
              "first invocation",
              "AWS calls",
              "<= 1.5x",
              "clients at init",
              "vs empty",
              "vs SDK floor",
            ],
            rows.map((r) => [
              r.function,
              `${r.medianMs.toFixed(0)} ms`,
              `${r.loadMs.toFixed(0)} ms`,
              `${r.ratio}x`,
              r.outcomes.join(", "),
              r.awsCalls,
              r.function === EMPTY
                ? "floor"
                : r.function === SDK_FLOOR || r.function === ONE_CALL
                  ? "reference"
                  : answeredLocally(r)
                    ? pass(r.ratio <= TARGETS.maxColdRatio)
                    : "needs AWS",
              `${r.withClientsMs.toFixed(0)} ms`,
              `${r.withClientsRatio}x`,
              `${r.withClientsVsSdkFloor}x`,
            ]),
          ),
        );
        const clientInit = declared.some(
          (n) => fnInputs(n).environment?.variables?.SWITCHYARD_CLIENT_INIT === "at-init",
        )
          ? "at-init"
          : "on-first-use";
        results.cold.clientInit = clientInit;
        console.log(
          `\n  cold median: a new process loads __index.js (Lambda on-demand init; this stack's switchyard:lambdaClientInit is ${clientInit}) and answers a request` +
            "\n  that needs no AWS call where the handler can (an unknown path, an invalid event); `AWS calls` counts the calls it made" +
            "\n  anyway (to a local stub answering 400). clients at init: the same with AWS_LAMBDA_INITIALIZATION_TYPE=provisioned-concurrency," +
            "\n  which builds every client at init: about what a cold start costs whose first request calls AWS. The SDK floor is" +
            `\n  ${SDK_FLOOR} (${sdkFloor.toFixed(0)} ms): an empty handler that loads two SDK clients and the logger. ${ONE_CALL}` +
            `\n  (${oneCall.toFixed(0)} ms, ${ratio(oneCall, floor)}x): the least a first request that calls AWS costs, one SQS client and one call.`,
        );
        const measured = rows.filter((r) => ![EMPTY, SDK_FLOOR, ONE_CALL].includes(r.function));
        const local = measured.filter(answeredLocally);
        const needsAws = measured.filter((r) => !answeredLocally(r));
        const worst = local.reduce(
          (a, r) => (Number.isNaN(r.ratio) ? Infinity : Math.max(a, r.ratio)),
          0,
        );
        targets.push({
          name: "cold load vs empty handler (first request answered without AWS)",
          target: `<= ${TARGETS.maxColdRatio}x`,
          value: local.length
            ? `worst ${worst}x of ${local.length} (empty ${floor.toFixed(0)} ms)`
            : "no function measured",
          pass: local.length > 0 && worst <= TARGETS.maxColdRatio,
        });
        if (needsAws.length > 0) {
          const w = needsAws.reduce((a, r) => Math.max(a, r.ratio), 0);
          targets.push({
            name: `cold load vs empty handler, functions whose every request calls AWS (${needsAws.map((r) => r.function.replace(/^switchyard-[a-z]+-/, "")).join(", ")})`,
            target: `<= ${TARGETS.maxColdRatio}x`,
            value: `worst ${w}x (SDK floor ${ratio(sdkFloor, floor)}x; one SQS call from a cold process ${ratio(oneCall, floor)}x)`,
            pass: w <= TARGETS.maxColdRatio,
          });
        }
      } finally {
        await stub.close();
      }
    },
  );

  const rules: DeclaredRule[] = program.resources
    .filter((r: any) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.inputs.eventPattern)
    .map((r: any) => ({ name: r.name, pattern: JSON.parse(r.inputs.eventPattern) }));
  const realistic = realisticEvents();
  const witnesses = rules.map((r, i) => witnessEvent(r.pattern, i)).filter((e): e is object => !!e);
  const events = [...realistic, ...witnesses];

  await section("Hot paths: median and p99 per operation", async () => {
    const rows: Array<Array<string | number>> = [];
    results.hot = {};

    const webhook = await benchWebhook(webhookIterations);
    results.hot.webhook = webhook;
    if ("skipped" in webhook)
      rows.push([
        "webhook delivery (verify + idempotency + publish + logs and EMF)",
        "-",
        "skipped",
        webhook.skipped,
      ]);
    else {
      rows.push([
        "webhook delivery (verify + idempotency + publish + logs and EMF)",
        webhook.n,
        `${webhook.median.toFixed(2)} ms`,
        `${webhook.p99.toFixed(2)} ms`,
      ]);
    }

    const pm = await benchPatternMatching(rules, events, iterations);
    results.hot.patternMatching = pm;
    rows.push([
      `event vs all ${pm.rules} rules (${pm.events} sample events, ${pm.matchesPerEvent.toFixed(2)} matches/event)`,
      pm.n,
      us(pm.median),
      us(pm.p99),
    ]);

    const transformers: DeclaredTransformer[] = [];
    const skipped: string[] = [];
    for (const t of program.resources.filter(
      (r: any) => r.type === "aws:cloudwatch/eventTarget:EventTarget" && r.inputs.inputTransformer,
    )) {
      const rule =
        rules.find((r) => r.name === t.inputs.rule) ?? rules.find((r) => t.name.startsWith(r.name));
      const event =
        rule &&
        (realistic.find((e) => matchesPattern(rule.pattern, e)) ?? witnessEvent(rule.pattern));
      if (!rule || !event) {
        skipped.push(t.name);
        continue;
      }
      transformers.push({
        name: t.name,
        ruleName: rule.name,
        transformer: {
          inputPathsMap: t.inputs.inputTransformer.inputPaths,
          inputTemplate: t.inputs.inputTransformer.inputTemplate,
        },
        event,
      });
    }
    if (transformers.length > 0) {
      const tr = await benchTransformers(transformers, iterations);
      results.hot.transformers = { ...tr, targets: transformers.map((t) => t.name), skipped };
      rows.push([
        `transformer render (${tr.transformers} declared)`,
        tr.n,
        us(tr.median),
        us(tr.p99),
      ]);
    }
    console.log(table(["path", "iterations", "median", "p99"], rows));
    if (skipped.length) console.log(`  transformers without a sample event: ${skipped.join(", ")}`);
  });

  await section(
    "Publisher efficiency: 1,000 events through handlers/lib/publisher.ts",
    async () => {
      const entries = bulkEntries(1000);
      const clean = await publisherEfficiency(entries);
      const throttled = await publisherEfficiency(entries, 20);
      results.publisher = { clean, throttled5Percent: throttled };
      console.log(
        table(
          [
            "bulk",
            "PutEvents calls",
            "entries/call",
            "min",
            "max",
            "largest call",
            "retries",
            "delivered",
          ],
          [
            [
              "1,000 events",
              clean.calls,
              clean.entriesPerCall,
              clean.minEntriesPerCall,
              clean.maxEntriesPerCall,
              kb(clean.maxBytesPerCall),
              clean.retries,
              clean.delivered,
            ],
            [
              "1,000 events, 5% throttled",
              throttled.calls,
              throttled.entriesPerCall,
              throttled.minEntriesPerCall,
              throttled.maxEntriesPerCall,
              kb(throttled.maxBytesPerCall),
              throttled.retries,
              throttled.delivered,
            ],
          ],
        ),
      );
      targets.push({
        name: "entries per PutEvents call on bulk",
        target: `>= ${TARGETS.minEntriesPerCall}`,
        value: String(clean.entriesPerCall),
        pass: clean.entriesPerCall >= TARGETS.minEntriesPerCall && clean.delivered === clean.events,
      });
    },
  );

  console.log("\n== Targets ==");
  console.log(
    table(
      ["target", "goal", "reached", "result"],
      targets.map((t) => [t.name, t.target, t.value, pass(t.pass)]),
    ),
  );
  const out = path.join(__dirname, "results.json");
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + "\n");
  console.log(
    `\nWrote ${path.relative(process.cwd(), out)}. A benchmark: exit code 0 whatever the targets say.`,
  );
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(`bench could not run: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
