import { expect } from "chai";
import * as fs from "fs";
import { accepts, descendants, isAlive, startTwin, TwinProcess } from "./twinProcess";

// `npm start` stopped as a terminal's Ctrl-C stops it (SIGINT to its whole process group: the
// function processes and moto_server get it too) and as `kill` or a container runtime stops it
// (SIGTERM to the CLI alone): within 5 s, every port free, every child process gone, every
// temporary folder removed.
const STOP_BUDGET_MS = 5000;

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").slice(0, 120);
  } catch {
    return "";
  }
}

/**
 * Waits until none of `pids` runs, at most until `deadline`; resolves with the time that took
 * from `since` and the command lines of those still running.
 */
async function childrenGone(
  pids: number[],
  since: number,
  deadline: number,
): Promise<{ ms: number; alive: string[] }> {
  const names = new Map(pids.map((p) => [p, commandOf(p)]));
  for (;;) {
    const alive = pids.filter(isAlive);
    if (alive.length === 0 || Date.now() > deadline)
      return { ms: Date.now() - since, alive: alive.map((p) => `${p} ${names.get(p)}`) };
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function exercise(twin: TwinProcess): Promise<void> {
  // Function processes start on first use: call every Function URL.
  const calls = [...twin.ports]
    .filter(([name]) => name.startsWith("function URL "))
    .map(([, port]) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      }).then((r) => r.text()),
    );
  await Promise.all(calls);
}

async function stopAndCheck(
  signal: NodeJS.Signals,
  basePort: number,
  toGroup: boolean,
): Promise<number> {
  const twin = await startTwin(basePort);
  try {
    await exercise(twin);
    const children = descendants(twin.pid);
    const runners = children.filter((p) =>
      fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("lambdaRunner.js"),
    );
    expect(runners.length, "function processes started").to.be.at.least(5);
    expect(children).to.include(twin.motoPid);
    const ports = [...twin.ports.values()];
    expect(ports.length).to.be.at.least(10);

    const exited = twin.exited();
    const sent = Date.now();
    process.kill(toGroup ? -twin.pid : twin.pid, signal);
    const ms = await exited;
    const gone = await childrenGone(children, sent, sent + STOP_BUDGET_MS);
    console.log(
      `      ${signal}${toGroup ? " to the process group" : ""}: exited in ${ms} ms, its ${children.length} child processes gone in ${gone.ms} ms`,
    );
    expect(ms, `${signal}: time to exit`).to.be.below(STOP_BUDGET_MS);
    expect(twin.child.exitCode, twin.stderr()).to.equal(0);
    expect(gone.alive, "child processes still running").to.deep.equal([]);

    for (const port of ports)
      expect(await accepts(port), `port ${port} still open`).to.equal(false);
    const left = fs.readdirSync(twin.tmpDir).filter((f) => f.startsWith("switchyard-"));
    expect(left, "temporary folders left behind").to.deep.equal([]);
    expect(fs.existsSync(`${twin.tmpDir}/endpoints.json`), "endpoints file left").to.equal(false);
    return ms;
  } finally {
    // Whatever is left of its process group (nothing, when the test passes).
    try {
      process.kill(-twin.pid, "SIGKILL");
    } catch {
      // No process left in the group.
    }
    fs.rmSync(twin.tmpDir, { recursive: true, force: true });
  }
}

describe("npm start stops cleanly", function () {
  this.timeout(240_000);

  it("on Ctrl-C (SIGINT to its process group): exits within 5 s, ports free, no child left, temporary folders removed", async () => {
    await stopAndCheck("SIGINT", 47700, true);
  });

  it("on SIGTERM to the CLI alone: exits within 5 s, ports free, no child left, temporary folders removed", async () => {
    // moto_server gets no signal of its own here: the run stops its apply, lets the calls in
    // flight end and stops it.
    await stopAndCheck("SIGTERM", 47720, false);
  });

  it("on SIGINT while it starts (moto_server up, the servers not yet): exits, nothing left", async () => {
    // The first table line: moto_server runs, the servers are not all listening yet.
    const twin = await startTwin(47760, {}, /^table /m);
    try {
      const children = descendants(twin.pid);
      const moto = children.filter((p) =>
        fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("moto_server"),
      );
      expect(moto, "moto_server running").to.have.length(1);
      const exited = twin.exited();
      const sent = Date.now();
      // To the CLI alone: moto_server must be ended by it, not by the signal.
      process.kill(twin.pid, "SIGINT");
      const ms = await exited;
      const gone = await childrenGone(children, sent, sent + STOP_BUDGET_MS);
      console.log(
        `      SIGINT while starting: exited in ${ms} ms, its ${children.length} child processes gone in ${gone.ms} ms`,
      );
      expect(ms).to.be.below(STOP_BUDGET_MS);
      expect(gone.alive, "child processes still running").to.deep.equal([]);
      const left = fs.readdirSync(twin.tmpDir).filter((f) => f.startsWith("switchyard-"));
      expect(left, "temporary folders left behind").to.deep.equal([]);
    } finally {
      try {
        process.kill(-twin.pid, "SIGKILL");
      } catch {
        // No process left in the group.
      }
      fs.rmSync(twin.tmpDir, { recursive: true, force: true });
    }
  });
});
