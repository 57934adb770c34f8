// The bench's measurement functions (not the benchmark itself): ZIP writing, file walking,
// statistics, publisher call counting, sample events, archive sizing and one cold start.
import { expect } from "chai";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { settle, setupMocks, valueOf } from "../mocks";

setupMocks();
import { functionArchives, SwitchyardFunction } from "../../components/lambda";
import { archiveEntries, materialize } from "../../local/artifacts";
import {
  ArchiveSizer,
  defaultCodeFolders,
  EMPTY_ZIP_BYTES,
  measureArchive,
  ownCode,
} from "../../bench/archives";
import { coldStartOnce, HARMLESS_EVENT, startStubEndpoint } from "../../bench/coldStart";
import { bulkEntries, publisherEfficiency } from "../../bench/publisherBench";
import { table } from "../../bench/stats";
import { witnessEvent } from "../../bench/samples";
import { median, percentile, ratio, summarize } from "../../bench/stats";
import { walkFiles } from "../../bench/zip";
import { crc32, writeZip } from "../../lib/zip";
import { matchesPattern } from "../../lib/eventPattern";

/** Reads a ZIP through its central directory, independently of the writer. */
function readZip(buf: Buffer): Array<{ name: string; data: Buffer; method: number; crc: number }> {
  const eocd = buf.length - 22;
  expect(buf.readUInt32LE(eocd)).to.equal(0x06054b50);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = [];
  for (let i = 0; i < count; i++) {
    expect(buf.readUInt32LE(p)).to.equal(0x02014b50);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
    expect(buf.readUInt32LE(local)).to.equal(0x04034b50);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + csize);
    out.push({
      name,
      method,
      crc,
      data: method === 8 ? zlib.inflateRawSync(raw) : Buffer.from(raw),
    });
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return out;
}

describe("bench: ZIP writer and file walker", () => {
  const inputs = [
    { name: "__index.js", data: Buffer.from("exports.handler = async () => 1;\n".repeat(50)) },
    { name: "node_modules/p/tiny.txt", data: Buffer.from("ab") },
    {
      name: "node_modules/p/ünïcode.json",
      data: Buffer.from(JSON.stringify({ a: "x".repeat(3000) })),
    },
  ];

  it("computes CRC-32 as ZIP does", () => {
    expect(crc32(Buffer.from("123456789"))).to.equal(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).to.equal(0);
  });

  it("writes an archive whose entries read back intact, deflated when that is smaller", () => {
    const entries = readZip(writeZip(inputs));
    expect(entries.map((e) => e.name)).to.deep.equal(inputs.map((i) => i.name));
    entries.forEach((e, i) => {
      expect(e.data.equals(inputs[i].data)).to.equal(true);
      expect(e.crc).to.equal(crc32(inputs[i].data));
    });
    expect(entries.map((e) => e.method)).to.deep.equal([8, 0, 8]);
  });

  it("writes an archive that unzip accepts", function () {
    if (spawnSync("unzip", ["-v"]).status !== 0) this.skip();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-zip-")), "a.zip");
    fs.writeFileSync(file, writeZip(inputs));
    const out = execFileSync("unzip", ["-t", file]).toString();
    expect(out).to.contain("No errors detected");
  });

  it("sizes add up: the ZIP of A and B is the ZIP of A plus the ZIP of B minus one trailer", () => {
    const a = writeZip(inputs.slice(0, 1)).length;
    const b = writeZip(inputs.slice(1)).length;
    expect(writeZip(inputs).length).to.equal(a + b - EMPTY_ZIP_BYTES);
    expect(EMPTY_ZIP_BYTES).to.equal(22);
  });

  it("walks files through symlinked folders, and a link cycle only once", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "bench-walk-"));
    const pkg = path.join(root, "real", "pkg");
    fs.mkdirSync(path.join(pkg, "lib"), { recursive: true });
    fs.writeFileSync(path.join(pkg, "index.js"), "1234");
    fs.writeFileSync(path.join(pkg, "lib", "a.js"), "12");
    fs.symlinkSync(pkg, path.join(pkg, "lib", "loop"), "dir");
    const art = path.join(root, "art", "node_modules");
    fs.mkdirSync(art, { recursive: true });
    fs.symlinkSync(pkg, path.join(art, "pkg"), "dir");
    const files = walkFiles(path.join(root, "art"));
    expect(files.map((f) => [f.name, f.size])).to.deep.equal([
      ["node_modules/pkg/index.js", 4],
      ["node_modules/pkg/lib/a.js", 2],
    ]);
  });
});

describe("bench: statistics", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);

  it("takes the nearest-rank percentile and the median", () => {
    expect(percentile(hundred, 99)).to.equal(99);
    expect(percentile(hundred, 50)).to.equal(50);
    expect(percentile(hundred, 100)).to.equal(100);
    expect(percentile([7], 99)).to.equal(7);
    expect(median([3, 1, 2])).to.equal(2);
    expect(median([4, 1, 3, 2])).to.equal(2.5);
    expect(summarize(hundred)).to.deep.equal({ n: 100, median: 50.5, p99: 99, min: 1, max: 100 });
    expect(ratio(3, 2)).to.equal(1.5);
    expect(() => median([])).to.throw("median: no samples");
    expect(() => percentile([1], 101)).to.throw("percentile: p must be 0-100, got 101");
  });

  it("prints aligned tables", () => {
    expect(
      table(
        ["a", "bb"],
        [
          ["xyz", 1],
          ["q", 22],
        ],
      ),
    ).to.equal("a    bb\n---  --\nxyz   1\nq    22");
  });
});

describe("bench: publisher efficiency", () => {
  it("counts the PutEvents calls and entries per call the publisher makes", async () => {
    const r = await publisherEfficiency(bulkEntries(25));
    expect(r).to.include({
      events: 25,
      delivered: 25,
      calls: 3,
      retries: 0,
      minEntriesPerCall: 5,
      maxEntriesPerCall: 10,
    });
    expect(r.entriesPerCall).to.equal(8.33);
  });

  it("sees fewer entries per call when entries are large or throttled", async () => {
    // Record events (the publisher refuses events without a contract, lib/eventSchemas).
    const big = Array.from({ length: 20 }, (_, i) => ({
      Source: "switchyard.records",
      DetailType: "RecordCreated",
      Detail: JSON.stringify({
        tenantId: "t",
        recordId: `r${i}`,
        recordVersion: 1,
        payload: { b: "x".repeat(30000) },
      }),
    }));
    const r = await publisherEfficiency(big);
    // 8 entries of ~30 KB fit under the 256 KB limit of one call.
    expect(r.maxEntriesPerCall).to.equal(8);
    expect(r.maxBytesPerCall).to.be.at.most(262144);
    const t = await publisherEfficiency(bulkEntries(100), 10);
    expect(t.delivered).to.equal(100);
    expect(t.retries).to.be.above(0);
    expect(t.calls).to.be.above(10);
  });
});

describe("bench: sample events", () => {
  it("builds an event that matches each kind of pattern", () => {
    const patterns = [
      {
        source: ["switchyard.records"],
        "detail-type": ["RecordCreated"],
        detail: { recordVersion: [{ numeric: [">", 0] }], tenantId: [{ exists: true }] },
      },
      {
        source: [{ prefix: "switchyard.webhooks." }],
        detail: { provider: [{ "anything-but": ["twilio"] }] },
      },
      { "detail-type": [{ suffix: ".POST" }], "replay-name": [{ exists: false }] },
      { $or: [{ source: ["a"] }, { source: ["b"] }] },
    ];
    for (const p of patterns) {
      const ev = witnessEvent(p);
      expect(ev, JSON.stringify(p)).to.not.equal(undefined);
      expect(matchesPattern(p, ev!)).to.equal(true);
    }
    // A pattern EventBridge rejects has no sample event.
    expect(witnessEvent({ detail: { n: [{ numeric: ["<", 0, ">", 10, "=", 3] }] } })).to.equal(
      undefined,
    );
  });
});

describe("bench: archive sizes and cold start of a declared function", () => {
  let dir: string;

  before(async () => {
    const fn = new SwitchyardFunction("bench-probe", {
      logRetentionDays: 1,
      grants: [],
      environment: { PROBE_MODE: "strict" },
      handler: { module: "test/fixtures/probeHandler", factory: "createBenchProbe" },
    });
    await valueOf(fn.function.arn);
    await settle();
    dir = await materialize(functionArchives.get("bench-probe")!);
  });

  it("measures our archive and the default packaging of the same code, with and without the AWS SDK", async () => {
    const sizer = new ArchiveSizer();
    const defaults = {
      withSdk: await defaultCodeFolders(false),
      withoutSdk: await defaultCodeFolders(true),
    };
    expect(defaults.withSdk.map((d) => d.name)).to.include("node_modules/@aws-sdk/client-dynamodb");
    const withoutNames = defaults.withoutSdk.map((d) => d.name);
    expect(
      withoutNames.filter((n) => /node_modules\/@(aws-sdk|smithy|aws-crypto)\//.test(n)),
    ).to.deep.equal([]);
    expect(withoutNames).to.include("node_modules/@aws-lambda-powertools/logger");
    const m = await measureArchive(
      "bench-probe",
      functionArchives.get("bench-probe")!,
      defaults,
      sizer,
    );
    // Ours is exactly the ZIP of the materialized directory.
    const files = walkFiles(dir);
    expect(m.ours.files).to.equal(files.length);
    expect(m.ours.unpackedBytes).to.equal(files.reduce((n, f) => n + f.size, 0));
    expect(m.defaults.files).to.be.above(m.defaultsWithoutSdk.files);
    expect(m.defaultsWithoutSdk.files).to.be.above(m.ours.files);
    expect(m.defaults.zippedBytes).to.be.above(m.defaultsWithoutSdk.zippedBytes);
    expect(m.defaultsWithoutSdk.zippedBytes).to.be.above(m.ours.zippedBytes);
    expect(m.zippedRatio).to.equal(
      Math.round((m.defaults.zippedBytes / m.ours.zippedBytes) * 100) / 100,
    );
    expect(m.zippedRatioWithoutSdk).to.equal(
      Math.round((m.defaultsWithoutSdk.zippedBytes / m.ours.zippedBytes) * 100) / 100,
    );
    expect(m.unpackedRatio).to.equal(
      Math.round((m.defaults.unpackedBytes / m.ours.unpackedBytes) * 100) / 100,
    );
    expect(m.filesRatio).to.equal(Math.round((m.defaults.files / m.ours.files) * 100) / 100);
    expect(m.excludedPackages).to.be.above(10);
    // Default packaging uploads the function's own code, not the packages bundled into ours.
    const bundled = (await archiveEntries(functionArchives.get("bench-probe")!)).find(
      (e) => e.name === "__index.js",
    )!.text!;
    expect(bundled).to.contain("node_modules/@aws-lambda-powertools/logger");
    expect(m.ownCodeBytes)
      .to.be.above(0)
      .and.below(Buffer.byteLength(bundled) / 4);
    // The own code and the folders add up: the default archive is exactly their sum.
    const own = sizer.contribution([{ name: "__index.js", data: Buffer.from(ownCode(bundled)) }]);
    const folders = defaults.withoutSdk.map((f) => sizer.folder(f.name, f.path));
    expect(m.defaultsWithoutSdk.unpackedBytes).to.equal(
      own.unpackedBytes + folders.reduce((n, f) => n + f.unpackedBytes, 0),
    );
  });

  it("times a fresh process serving its first invocation, rejected quickly, next to a served one", async () => {
    const stub = await startStubEndpoint();
    try {
      const env = { PROBE_MODE: "strict", AWS_ENDPOINT_URL: stub.url };
      const rejected = await coldStartOnce(dir, env, HARMLESS_EVENT);
      expect(rejected.outcome).to.equal("Error");
      expect(rejected.totalMs).to.be.above(rejected.loadMs).and.below(10000);
      const served = await coldStartOnce(dir, env, { rawPath: "/ok" });
      expect(served.outcome).to.equal("result");
      // The cold-start check of the environment happens when the process loads the artifact.
      let failed = "";
      await coldStartOnce(dir, { AWS_ENDPOINT_URL: stub.url }).catch((e) => (failed = e.message));
      expect(failed).to.contain("PROBE_MODE is not set");
      expect(stub.calls()).to.equal(0);
    } finally {
      await stub.close();
    }
  });
});
