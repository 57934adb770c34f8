import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { printWarnings, setupMocks, unmappedPromiseStacks, warnings } from "../../local/mocks";

/** Runs `fn` with console.warn recording what Pulumi prints without an engine. */
async function printed(fn: () => Promise<void>): Promise<string[]> {
  const lines: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => void lines.push(args.join(" "));
  try {
    await fn();
  } finally {
    console.warn = original;
  }
  return lines;
}

describe("warnings under the mocks (local/mocks.ts)", () => {
  afterEach(() => printWarnings(false));

  it("keeps every warning and prints each once per evaluation", async () => {
    printWarnings(true);
    const from = warnings.length;
    const lines = await printed(async () => {
      setupMocks({}, "dev");
      await pulumi.log.warn("first");
      await pulumi.log.warn("first");
      await pulumi.log.warn("second");
      // the next evaluation says it again
      setupMocks({}, "dev");
      await pulumi.log.warn("first");
    });
    expect(warnings.slice(from)).to.deep.equal(["first", "first", "second", "first"]);
    expect(lines).to.deep.equal([
      "warning: [runtime] first",
      "warning: [runtime] second",
      "warning: [runtime] first",
    ]);
  });

  it("prints nothing in tests (test/setup.ts), which read the kept warnings", async () => {
    const from = warnings.length;
    const lines = await printed(async () => {
      setupMocks({}, "dev");
      await pulumi.log.warn("quiet");
    });
    expect(lines).to.deep.equal([]);
    expect(warnings.slice(from)).to.deep.equal(["quiet"]);
  });
});

describe("Pulumi's per-promise stacks under the tests (local/mocks.ts unmappedPromiseStacks)", () => {
  it("formats a stack captured in debuggablePromise without the mapping formatter, and every other with it", () => {
    const saved = Error.prepareStackTrace;
    const mappedFor: string[] = [];
    Error.prepareStackTrace = (error, frames) => {
      mappedFor.push(String(frames[0]?.getFunctionName()));
      return `mapped ${String(error)}`;
    };
    try {
      unmappedPromiseStacks();
      unmappedPromiseStacks(); // a second call does not wrap the wrapper
      function debuggablePromise(): string {
        return new Error("captured").stack!;
      }
      function assertionFailure(): string {
        return new Error("expected 1 to equal 2").stack!;
      }
      const captured = debuggablePromise();
      expect(captured.split("\n")[0]).to.equal("Error: captured");
      expect(captured.split("\n")[1]).to.match(/^ {4}at debuggablePromise \(/);
      expect(assertionFailure()).to.equal("mapped Error: expected 1 to equal 2");
      expect(mappedFor).to.deep.equal(["assertionFailure"]);
      // The tests' own formatter (ts-node's) is wrapped the same way by test/setup.ts.
      expect((saved as { unmappedPromiseStacks?: boolean }).unmappedPromiseStacks).to.equal(true);
    } finally {
      Error.prepareStackTrace = saved;
    }
  });
});
