// The bench's pure pieces: min/median/max of repeated runs, ratios paired run by run, a target that
// passes only when its worst run does, the fewest PutEvents calls possible, the bulk that forces
// splitting by size, the own code of a bundle, and how a function's environment is pointed at the
// local services.
import { expect } from "chai";
import { formatSpread, pairedRatios, passesAtMost, spread } from "../../bench/stats";
import { EvalSample, evaluationRatios, Round, samplesOf } from "../../bench/programEval";
import {
  callsLowerBound,
  firstFitDecreasingCalls,
  inOrderFewestCalls,
  mixedBulkEntries,
  publisherEfficiency,
} from "../../bench/publisherBench";
import { ownCode, runtimeProvidedPackages } from "../../bench/archives";
import { localEnvironment, operationOf, Provisioned } from "../../bench/realistic";
import { STOP_DELAY_MS, timeChild } from "../../bench/processes";
import { DEFAULT_MAX_ENTRY_BYTES, entrySize } from "../../handlers/lib/publisher";

const KB = 1024;
const C = DEFAULT_MAX_ENTRY_BYTES;

describe("bench: repeated runs", () => {
  it("reports min, median and max, leaving failed runs (NaN) out of them but not out of the count", () => {
    expect(spread([30, 10, 20])).to.deep.equal({ n: 3, min: 10, median: 20, max: 30 });
    expect(spread([4, 1, 3, 2])).to.deep.equal({ n: 4, min: 1, median: 2.5, max: 4 });
    expect(spread([5, NaN, 7])).to.deep.equal({ n: 2, min: 5, median: 6, max: 7 });
    expect(spread([NaN]).n).to.equal(0);
    expect(formatSpread(spread([1, 2, 3]), (n) => `${n} ms`)).to.equal("1 ms / 2 ms / 3 ms");
    expect(formatSpread(spread([]), String)).to.equal("not measured");
  });

  it("pairs ratios run by run, and refuses runs that do not pair", () => {
    expect(pairedRatios([10, 30, 20], [5, 10, 40])).to.deep.equal([2, 3, 0.5]);
    expect(() => pairedRatios([1, 2], [1])).to.throw(/2 runs against 1/);
  });

  it("passes a target only when the worst run does, and only when every run was measured", () => {
    expect(passesAtMost([1.1, 1.2, 1.5], 1.5)).to.equal(true);
    // A median well under the limit does not save one run over it.
    expect(passesAtMost([1.0, 1.0, 1.0, 1.0, 1.51], 1.5)).to.equal(false);
    // A failed run (NaN) or a missing one fails the target.
    expect(passesAtMost([1.0, NaN, 1.0], 1.5)).to.equal(false);
    expect(passesAtMost([1.0, 1.0], 1.5, 3)).to.equal(false);
    expect(passesAtMost([], 1.5)).to.equal(false);
  });
});

describe("bench: program evaluation rounds", () => {
  const at = (wallMs: number) => ({ wallMs }) as EvalSample;
  const round = (cb1: number, dev: number, sw: number, prod: number, cb2: number): Round => [
    { program: "one-callback-function", sample: at(cb1) },
    { program: "dev", sample: at(dev) },
    { program: "one-switchyard-function", sample: at(sw) },
    { program: "prod", sample: at(prod) },
    { program: "one-callback-function", sample: at(cb2) },
  ];
  const e = { rounds: [round(2, 8, 4, 9, 3), round(4, 10, 5, 6, 2)] };

  it("pairs each stack with the baseline evaluated next to it in the same round", () => {
    // dev follows the first callback run; prod precedes the second.
    expect(evaluationRatios(e, "dev", "one-callback-function")).to.deep.equal([4, 2.5]);
    expect(evaluationRatios(e, "prod", "one-callback-function")).to.deep.equal([3, 3]);
    // The SwitchyardFunction program against dev, which ran right before it.
    expect(
      evaluationRatios(e, "one-switchyard-function", "dev").map((x) => x.toFixed(2)),
    ).to.deep.equal(["0.50", "0.50"]);
    expect(samplesOf(e, "one-callback-function").map((s) => s.wallMs)).to.deep.equal([2, 3, 4, 2]);
  });

  it("gives a failed round a ratio that fails the target", () => {
    const broken = { rounds: [round(2, NaN, 4, 9, 3), round(4, 10, 5, 6, 2)] };
    const rs = evaluationRatios(broken, "dev", "one-callback-function");
    expect(rs.map(Number.isNaN)).to.deep.equal([true, false]);
    expect(passesAtMost(rs, 100, 2)).to.equal(false);
  });
});

describe("bench: the fewest PutEvents calls possible", () => {
  it("is bounded by the 10 entries a call holds", () => {
    expect(callsLowerBound(Array(95).fill(100))).to.equal(10);
    expect(callsLowerBound(Array(100).fill(100))).to.equal(10);
    expect(callsLowerBound([])).to.equal(0);
  });

  it("gives every entry over half a call its own call", () => {
    // Three entries of 129 KB: no two fit one 256 KB call, whatever their total says (1.5 calls).
    expect(callsLowerBound([129 * KB, 129 * KB, 129 * KB])).to.equal(3);
    expect(firstFitDecreasingCalls([129 * KB, 129 * KB, 129 * KB])).to.equal(3);
  });

  it("counts the small entries that cannot fit beside the large ones (Martello and Toth's L2)", () => {
    // Two entries of 200 KB leave 56 KB each; six of 60 KB fit none of that room and need 2 calls
    // (four to a call): 4 in all, where the total alone (2.4 calls) would say 3.
    const sizes = [200 * KB, 200 * KB, ...Array(6).fill(60 * KB)];
    expect(Math.ceil(sizes.reduce((a, b) => a + b, 0) / C)).to.equal(3);
    expect(callsLowerBound(sizes)).to.equal(4);
    expect(firstFitDecreasingCalls(sizes)).to.equal(4);
  });

  it("is never above what first-fit-decreasing achieves", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const sizes = mixedBulkEntries(300, seed).map(entrySize);
      expect(callsLowerBound(sizes)).to.be.at.most(firstFitDecreasingCalls(sizes));
    }
  });

  it("refuses an entry no call can hold", () => {
    expect(() => callsLowerBound([C + 1])).to.throw(/over 262144 bytes/);
  });

  it("builds a bulk of small, medium and large entries, each within the entry limit", () => {
    const sizes = mixedBulkEntries(1000).map(entrySize);
    expect(sizes).to.have.length(1000);
    expect(Math.max(...sizes))
      .to.be.at.most(C)
      .and.above(240 * KB);
    expect(sizes.filter((s) => s < 20 * KB).length).to.be.within(400, 600);
    expect(sizes.filter((s) => s > 128 * KB).length).to.be.within(100, 250);
    // Deterministic: the same bulk every run.
    expect(mixedBulkEntries(50).map(entrySize)).to.deep.equal(mixedBulkEntries(50).map(entrySize));
  });

  it("sees the publisher's calls against the bound on that bulk, every call within AWS's limits", async () => {
    const entries = mixedBulkEntries(200);
    const r = await publisherEfficiency(entries);
    expect(r.delivered).to.equal(200);
    expect(r.oversizedCalls).to.equal(0);
    expect(r.maxBytesPerCall).to.be.at.most(C);
    expect(r.calls).to.be.at.least(callsLowerBound(entries.map(entrySize)));
  });
});

describe("bench: default packaging's own code and the local environment", () => {
  it("keeps the modules of a bundle that are not from node_modules", () => {
    const bundle = [
      "// handlers/jobs/get.ts",
      "const a = 1;",
      "// node_modules/@aws-lambda-powertools/logger/lib/cjs/Logger.js",
      "var Logger = class {};",
      "// eslint-disable-next-line",
      "// handlers/lib/env.ts",
      "// a comment of the code, not a path",
      "function requireEnv() {}",
    ].join("\n");
    expect(ownCode(bundle)).to.equal(
      [
        "// handlers/jobs/get.ts",
        "const a = 1;",
        "// handlers/lib/env.ts",
        "// a comment of the code, not a path",
        "function requireEnv() {}",
      ].join("\n"),
    );
  });

  it("lists the runtime-provided packages by exact name", () => {
    const names = runtimeProvidedPackages();
    expect(names).to.include("@aws-sdk/client-dynamodb");
    expect(names.some((n) => n.startsWith("@smithy/"))).to.equal(true);
    expect(names.every((n) => /^@(aws-sdk|smithy|aws-crypto)\//.test(n))).to.equal(true);
  });

  it("points secret ARNs, queue URLs and other https URLs at the local services", () => {
    const p = {
      secretArns: new Map([
        ["arn:aws:secretsmanager:eu-west-1:1:secret:s-AbCdEf", "arn:moto:s-XyZ"],
      ]),
      queueUrls: new Map([["https://sqs.eu-west-1.amazonaws.com/1/q", "http://127.0.0.1:9/1/q"]]),
      recordsUrl: "http://127.0.0.1:8",
    } as unknown as Provisioned;
    expect(
      localEnvironment(
        {
          SECRET: "arn:aws:secretsmanager:eu-west-1:1:secret:s-AbCdEf",
          QUEUE: "https://sqs.eu-west-1.amazonaws.com/1/q",
          API: "https://records.example.com/api/v1/records",
          TABLE: "jobs",
        },
        p,
      ),
    ).to.deep.equal({
      SECRET: "arn:moto:s-XyZ",
      QUEUE: "http://127.0.0.1:9/1/q",
      API: "http://127.0.0.1:8/api/v1/records",
      TABLE: "jobs",
    });
  });

  it("names the operation of a call to the local endpoint", () => {
    expect(operationOf("POST", "/", "DynamoDB_20120810.GetItem")).to.equal(
      "DynamoDB_20120810.GetItem",
    );
    expect(operationOf("POST", "/2015-03-31/functions/f/invocations")).to.equal("Lambda.Invoke");
    expect(operationOf("GET", "/bucket/in/key.json?x-id=GetObject")).to.equal("S3 GET /bucket/*");
    expect(operationOf("PUT", "/bucket")).to.equal("S3 PUT /bucket");
  });
});

describe("bench: timing a fresh process", function () {
  this.timeout(60_000);

  it("times a server to its ready line, then stops it with the signal it handles", async () => {
    // The handler is installed right after the ready line, as local/cli.ts does.
    const t = await timeChild({
      args: [
        "-e",
        "console.log('Ready now'); process.on('SIGINT', () => process.exit(0)); setInterval(() => {}, 1000);",
      ],
      ready: /^Ready /,
      stop: "SIGINT",
    });
    expect(t.line).to.equal("Ready now");
    expect(t.exitMs).to.be.at.least(t.readyMs + STOP_DELAY_MS);
  });

  it("fails a server that the stop signal kills instead of stopping it cleanly", async () => {
    let failed = "";
    await timeChild({
      args: ["-e", "console.log('Ready now'); setInterval(() => {}, 1000);"],
      ready: /^Ready /,
      stop: "SIGINT",
    }).catch((e: Error) => (failed = e.message));
    expect(failed).to.match(/exited with SIGINT/);
  });
});

describe("bench: the fewest PutEvents calls that keep the entries' order", () => {
  const KB = 1024;
  it("fills each call until the next entry does not fit, by bytes and by count", () => {
    expect(inOrderFewestCalls([])).to.equal(0);
    // 200 + 100 fit one call; the next 200 does not fit beside them (256 KB a call).
    expect(inOrderFewestCalls([200 * KB, 50 * KB, 200 * KB, 50 * KB])).to.equal(2);
    // 130 | 130 + 120 | 120 + 6: each call takes what fits of the next entries.
    const sizes = [130 * KB, 130 * KB, 120 * KB, 120 * KB, 6 * KB];
    expect(inOrderFewestCalls(sizes)).to.equal(3);
    expect(inOrderFewestCalls([129 * KB, 128 * KB, 127 * KB, 129 * KB])).to.equal(3);
    expect(firstFitDecreasingCalls([129 * KB, 128 * KB, 127 * KB, 129 * KB])).to.equal(3);
    expect(inOrderFewestCalls(Array(21).fill(1))).to.equal(3);
    expect(() => inOrderFewestCalls([257 * KB])).to.throw("fits no call");
  });

  it("is what the publisher does on the size-mixed bulk, and never more than the bound allows", async () => {
    const mixed = mixedBulkEntries(200);
    const sizes = mixed.map(entrySize);
    const run = await publisherEfficiency(mixed);
    expect(run.calls).to.equal(inOrderFewestCalls(sizes));
    expect(inOrderFewestCalls(sizes)).to.be.at.least(callsLowerBound(sizes));
  });
});
