// A root hook of every test run (test/setup.ts): observes every entry any handler hands the shared
// publisher, and fails the run when one does not conform to its event contract's registry schema,
// checked independently of the publisher's own verdict: the entry is wrapped in the envelope
// EventBridge delivers and validated against the exact schema the registry declares. So the
// handler suites prove that every event they publish is one the registry describes.
import * as fs from "fs";
import * as path from "path";
import type { Context } from "mocha";
import { ContractVerdict, observeContracts } from "../../handlers/lib/publisher";
import { schemaDocument, schemaName } from "../../lib/eventSchemas";
import { validate } from "../../lib/jsonSchema";

/** Test files that hand the publisher non-conforming or uncontracted entries on purpose. */
export const DELIBERATE_FILES = ["test/handlers/lib/publisher.test.ts"];

const ROOT = path.join(__dirname, "..", "..");
let currentFile = "(before any test)";
let currentTest = "";
const observed: Array<{ file: string; test: string; verdict: ContractVerdict }> = [];
const refusalsExpected = new Set<string>();
let stop: (() => void) | undefined;

/**
 * Called inside a test that makes a handler publish a non-conforming event on purpose (to prove its
 * failure path handles the publisher's refusal): that test's entries are not checked.
 */
export function expectRefusedEvents(): void {
  refusalsExpected.add(currentTest);
}

/** The event EventBridge would deliver for an entry (what the registry's schema describes). */
export function deliveredEvent(v: ContractVerdict): Record<string, unknown> {
  let detail: unknown;
  try {
    detail = JSON.parse(v.entry.Detail);
  } catch {
    detail = v.entry.Detail;
  }
  return {
    version: "0",
    id: "00000000-0000-4000-8000-000000000000",
    "detail-type": v.entry.DetailType,
    source: v.entry.Source,
    account: "123456789012",
    time: (v.entry.Time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    region: "eu-west-1",
    resources: v.entry.Resources ?? [],
    detail,
  };
}

/** Why an observed entry is not an event the registry describes; undefined when it is. */
export function nonConformity(v: ContractVerdict): string | undefined {
  if (!v.contract)
    return `no event contract names source "${v.entry.Source}" with detail-type "${v.entry.DetailType}"`;
  const problems = validate(schemaDocument(v.contract), deliveredEvent(v));
  return problems.length > 0 ? `${schemaName(v.contract)}: ${problems.join("; ")}` : undefined;
}

export const mochaHooks = {
  beforeAll(): void {
    stop ??= observeContracts((verdict) =>
      observed.push({ file: currentFile, test: currentTest, verdict }),
    );
  },
  beforeEach(this: Context): void {
    const file = this.currentTest?.file;
    if (file) currentFile = path.relative(ROOT, file);
    currentTest = `${currentFile} ${this.currentTest?.fullTitle() ?? ""}`;
  },
  afterAll(): void {
    const checked = observed.filter(
      (o) => !DELIBERATE_FILES.includes(o.file) && !refusalsExpected.has(o.test),
    );
    const bad = checked
      .map((o) => ({ o, why: nonConformity(o.verdict) }))
      .filter((x) => x.why !== undefined);
    // SWITCHYARD_CONTRACT_REPORT=<file>: the events checked, by schema (appended, one JSON line per run).
    const report = process.env.SWITCHYARD_CONTRACT_REPORT;
    if (report) {
      const bySchema: Record<string, number> = {};
      for (const o of checked) {
        const k = o.verdict.contract ? schemaName(o.verdict.contract) : "(none)";
        bySchema[k] = (bySchema[k] ?? 0) + 1;
      }
      fs.appendFileSync(report, `${JSON.stringify({ checked: checked.length, bySchema })}\n`);
    }
    observed.length = 0;
    refusalsExpected.clear();
    if (bad.length > 0)
      throw new Error(
        `${bad.length} published event(s) do not conform to their event contract (lib/eventSchemas):\n` +
          bad.map((x) => `  ${x.o.file}: ${x.why}`).join("\n"),
      );
  },
};
