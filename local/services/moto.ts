// moto_server: the AWS account of the local run. At start the program's whole graph is applied to
// it by the deploy rehearsal (local/rehearsal.ts), with the inputs `pulumi up` would send: the
// tables first (the functions' first invocation needs them, so the run waits for them), the rest in
// the background while the run already serves, the endpoint holding the operations it proxies to
// moto until the apply has finished. DynamoDB's data plane, the S3 objects and the functions' log
// streams live in it too; what executes (delivery, invocation, executions) is the engine's.
import * as fs from "fs";
import * as path from "path";
import { REGION } from "../mocks";
import { MotoServer, REHEARSAL_MOTO_ENV, startMotoServer } from "../motoServer";
import type { RehearsalReport } from "../rehearsal";
import type { Runtime } from "./context";
import { LOCAL_CREDENTIALS } from "../credentials";

/** Where --persist keeps moto_server's recording of requests, in .switchyard/dynamodb/<stack>. */
export const MOTO_RECORDING_FILE = "moto-recording.jsonl";

/** What the local runtime's own processes need in moto before the first invocation. */
const NEEDED_FIRST = new Set(["aws:dynamodb/table:Table"]);

/**
 * What the engine itself needs in moto: the tables (items live there) and the buckets (objects
 * do). `--moto engine` applies only these.
 */
const ENGINE_NEEDS = new Set([...NEEDED_FIRST, "aws:s3/bucket:Bucket"]);

/**
 * How much of the program the run applies to moto: `all` (the default: the deploy rehearsal, and
 * every read and inspection through the AWS endpoint) or `engine` (only what executing the program
 * needs, a few seconds of CPU less per start; reads of anything else find an empty account).
 */
export type MotoScope = "all" | "engine";

export interface MotoOptions {
  persist?: boolean;
  /** Where --persist keeps data (dynamodb/<stack>). */
  stateDir: string;
  log(line: string): void;
  /** Default "all". */
  scope?: MotoScope;
}

/** How long stop() lets the apply's calls in flight and the run's writes end, ms. */
const STOP_WAIT_MS = 2000;

export class MotoService {
  public server?: MotoServer;
  public url = "";
  /** Resolves once the tables exist (rejects with the rehearsal's error if one was rejected). */
  public tables: Promise<void> = Promise.resolve();
  /**
   * Resolves with the rehearsal's report once the whole program is in moto (and, with --persist,
   * the recording of earlier runs replayed); rejects with a RehearsalError naming the resource and
   * the value moto rejected.
   */
  public applied: Promise<RehearsalReport> = new Promise(() => undefined);
  public report?: RehearsalReport;
  /** Why the apply failed, once it has. */
  public failure?: Error;
  /** The run's own writes to moto still under way (track). */
  private readonly writes = new Set<Promise<unknown>>();
  /** Aborted by stop(): the apply makes no further call. */
  private readonly stopped = new AbortController();
  /** Whether the apply has begun (it waits for the run to serve first). */
  private applying = false;

  constructor(private readonly opts: MotoOptions) {}

  /** The file --persist records to, for a stack. */
  recordingFile(stack: string): string {
    return path.join(this.opts.stateDir, "dynamodb", stack, MOTO_RECORDING_FILE);
  }

  /**
   * Starts moto_server (with the AWS-managed IAM policies the program attaches loaded, where the
   * whole program is applied). With
   * --persist it records the requests it is sent after the apply (its recorder, started once the
   * earlier runs' recording has been replayed) to .switchyard/dynamodb/<stack>/moto-recording.jsonl.
   */
  start(stack: string): Promise<void> {
    this.starting = this.launch(stack);
    return this.starting;
  }

  /** moto_server's start under way (start): stop() waits for it, then stops the server. */
  private starting?: Promise<void>;

  private async launch(stack: string): Promise<void> {
    const dataDir = path.join(this.opts.stateDir, "dynamodb", stack);
    if (this.opts.persist) {
      fs.mkdirSync(dataDir, { recursive: true });
      const leftovers = fs.readdirSync(dataDir).filter((f) => f !== MOTO_RECORDING_FILE);
      if (leftovers.length > 0 && !fs.existsSync(this.recordingFile(stack)))
        this.opts.log(
          `DynamoDB: ${dataDir} holds data of an earlier local DynamoDB (dynalite), which moto_server cannot read: the tables start empty`,
        );
    }
    this.server = await startMotoServer({
      env: {
        // The AWS-managed IAM policies are loaded (about 0.5 s of moto's CPU) only where the
        // whole program, which attaches them, is applied.
        ...((this.opts.scope ?? "all") === "all" ? REHEARSAL_MOTO_ENV : {}),
        ...(this.opts.persist ? { MOTO_RECORDER_FILEPATH: this.recordingFile(stack) } : {}),
      },
    });
    // No warm-up request: nothing waits on moto before the run serves, and its CPU is the
    // evaluation's until then.
    this.url = this.server.url;
  }

  /**
   * Applies the program to moto, once `after` has settled: `tables` settles once the tables exist,
   * `applied` once everything does. With --persist the whole apply is awaited before the recording is replayed (its objects
   * and items need their buckets and tables), and recording starts after that.
   */
  apply(rt: Runtime, after: Promise<void> = Promise.resolve()): void {
    let tablesDone!: () => void;
    const tables = new Promise<void>((resolve) => (tablesDone = resolve));
    this.applied = (async () => {
      // Not before `after` (the run serving): its work must not delay the start.
      await after;
      this.stopped.signal.throwIfAborted();
      this.applying = true;
      const started = Date.now();
      // Loaded here, not with the runtime: its SDK clients are not needed before the run serves.
      const { applyToMoto } = require("../rehearsal") as typeof import("../rehearsal");
      const scope = this.opts.scope ?? "all";
      const resources =
        scope === "all"
          ? rt.program.resources
          : rt.program.resources.filter((r) => ENGINE_NEEDS.has(r.type));
      const report = await applyToMoto(resources, this.url, {
        failFast: true,
        archives: rt.program.archives,
        first: (r) => NEEDED_FIRST.has(r.type),
        firstDone: tablesDone,
        signal: this.stopped.signal,
      });
      this.stopped.signal.throwIfAborted();
      await this.withoutUnenforceableDenials(rt);
      if (this.opts.persist) await this.replay(rt.program.stack);
      this.report = report;
      rt.log(
        `moto: ${scope === "all" ? "the program" : "what the engine needs (--moto engine)"} applied (${report.created.length} resources created, ${report.skipped.length} skipped, ${report.calls} calls) in ${Date.now() - started} ms: inspection through the AWS endpoint is served`,
      );
      return report;
    })();
    this.applied.catch((e: Error) => {
      this.failure = e;
      tablesDone();
    });
    this.tables = Promise.race([tables, this.applied.then(() => undefined)]).then(() => {
      if (this.failure) throw this.failure;
    });
  }

  /**
   * moto 5.2.1 evaluates only StringEquals conditions of a bucket policy and ignores the others: the
   * program's TLS-only policy (Deny s3:* where aws:SecureTransport is false) then denies every
   * request. Such a policy, once moto has accepted it, is removed again, and said so.
   */
  private async withoutUnenforceableDenials(rt: Runtime): Promise<void> {
    const { DeleteBucketPolicyCommand, GetBucketPolicyCommand, ListBucketsCommand, S3Client } =
      require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
    const s3 = new S3Client({
      endpoint: this.url,
      region: REGION,
      forcePathStyle: true,
      credentials: LOCAL_CREDENTIALS,
    });
    try {
      for (const b of (await s3.send(new ListBucketsCommand({}))).Buckets ?? []) {
        let policy: { Statement?: Array<{ Effect?: string; Condition?: object }> };
        try {
          const out = await s3.send(new GetBucketPolicyCommand({ Bucket: b.Name }));
          policy = JSON.parse(out.Policy ?? "{}");
        } catch {
          continue;
        }
        const unenforceable = (policy.Statement ?? []).some(
          (st) =>
            st.Effect === "Deny" &&
            Object.keys(st.Condition ?? {}).some((op) => op !== "StringEquals"),
        );
        if (!unenforceable) continue;
        await s3.send(new DeleteBucketPolicyCommand({ Bucket: b.Name }));
        rt.log(
          `moto: bucket ${b.Name}'s policy accepted, then removed: moto ignores its Deny's condition and would refuse every request`,
        );
      }
    } finally {
      s3.destroy();
    }
  }

  /** Replays the recording of earlier runs, then records this run's requests after it. */
  private async replay(stack: string): Promise<void> {
    const recording = this.recordingFile(stack);
    if (fs.existsSync(recording) && fs.statSync(recording).size > 0) {
      const res = await fetch(`${this.url}/moto-api/recorder/replay-recording`, {
        method: "POST",
      });
      await res.text();
      if (!res.ok)
        throw new Error(
          `moto: replaying ${recording} failed (${res.status}); move the file away to start empty`,
        );
      this.opts.log(`DynamoDB: replayed ${recording}`);
    }
    const res = await fetch(`${this.url}/moto-api/recorder/start-recording`, { method: "POST" });
    await res.text();
  }

  /** A write of the run's own to moto (the demo tenant's key) that stop() lets end first. */
  track(write: Promise<unknown>): void {
    const settled: Promise<unknown> = write.then(
      () => this.writes.delete(settled),
      () => this.writes.delete(settled),
    );
    this.writes.add(settled);
  }

  /**
   * Stops the apply and moto_server. An apply under way makes no further call; its calls in
   * flight and the run's tracked writes end first (at most STOP_WAIT_MS, so a stalled moto_server
   * cannot hold the stop), then the server is stopped (in the tests, kept to be reset and given
   * to the next run).
   */
  async stop(): Promise<void> {
    this.stopped.abort(new Error("the run stopped"));
    const inFlight = [...this.writes, ...(this.applying ? [this.applied] : [])].map((p) =>
      p.catch(() => undefined),
    );
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(inFlight),
      new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS))),
    ]);
    clearTimeout(timer);
    // A run that fails while moto_server is still starting (a bad config value) stops it too.
    await this.starting?.catch(() => undefined);
    return this.server?.stop();
  }
}
