// The bench's `npm test` section: mocha's closing counts read from its output, and the suite's
// command timed and ended as a process group (here with small stand-in commands, not the suite).
import { expect } from "chai";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { suiteCounts, timeSuite, timeSuiteOnce } from "../../bench/testSuite";
import { isAlive } from "../local/twinProcess";

const SUMMARY = [
  "  the program",
  "    ✔ declares 2 passing tests in a title that is not a summary",
  "",
  "  1588 passing (2m)",
  "  1 pending",
  "  2 failing",
  "",
  "  1) a test",
  "     AssertionError: 3 passing expected",
].join("\n");

describe("bench: npm test timed with its counts", function () {
  this.timeout(30_000);

  it("reads mocha's closing summary: passing, pending and failing", () => {
    expect(suiteCounts(SUMMARY)).to.deep.equal({ passing: 1588, pending: 1, failing: 2 });
    expect(suiteCounts("  12 passing (3s)\n")).to.deep.equal({
      passing: 12,
      pending: 0,
      failing: 0,
    });
  });

  it("takes the last summary, and none when mocha printed none", () => {
    expect(suiteCounts(`  3 passing (1s)\n  1 failing\n${SUMMARY}`)).to.deep.equal({
      passing: 1588,
      pending: 1,
      failing: 2,
    });
    expect(suiteCounts("Error: Cannot find module 'mocha'\n")).to.equal(undefined);
  });

  it("times a command from spawn to exit, with its exit code and counts", async () => {
    const script = "setTimeout(() => { console.log('  7 passing (1s)\\n  1 pending'); }, 300)";
    const ok = await timeSuiteOnce({ command: [process.execPath, "-e", script] });
    expect(ok.code).to.equal(0);
    expect(ok.counts).to.deep.equal({ passing: 7, pending: 1, failing: 0 });
    expect(ok.wallMs).to.be.within(300, 20_000);
    const failed = await timeSuiteOnce({
      command: [
        process.execPath,
        "-e",
        "console.log('  6 passing\\n  1 failing'); process.exit(1)",
      ],
    });
    expect(failed.code).to.equal(1);
    expect(failed.counts).to.deep.equal({ passing: 6, pending: 0, failing: 1 });
  });

  it("ends a run past its time with every process it started", async () => {
    // The command starts a grandchild that would outlive it, writes its pid down, and never exits.
    const pidFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bench-suite-")), "pid");
    const script = [
      "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));`,
      "setInterval(() => {}, 1000);",
    ].join("\n");
    const run = await timeSuiteOnce({ command: [process.execPath, "-e", script], timeoutMs: 1500 });
    expect(run.code).to.equal(null);
    expect(run.counts).to.equal(undefined);
    expect(run.wallMs).to.be.at.least(1500);
    const grandchild = Number(fs.readFileSync(pidFile, "utf8"));
    expect(grandchild).to.be.greaterThan(0);
    // Gone, or a zombie its ended parent left for init to reap.
    const deadline = Date.now() + 5000;
    while (isAlive(grandchild) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(grandchild), `process ${grandchild}`).to.equal(false);
  });

  it("runs the suite the given number of times, one after the other, and says how each ended", async () => {
    const lines: string[] = [];
    const runs = await timeSuite(2, (l) => lines.push(l), {
      command: [process.execPath, "-e", "console.log('  4 passing (1s)')"],
    });
    expect(runs.map((r) => [r.code, r.counts?.passing])).to.deep.equal([
      [0, 4],
      [0, 4],
    ]);
    expect(lines.map((l) => l.replace(/\d+\.\d s/, "T s"))).to.deep.equal([
      "  run 1/2: T s, exit 0, 4 passing, 0 pending, 0 failing",
      "  run 2/2: T s, exit 0, 4 passing, 0 pending, 0 failing",
    ]);
  });
});
