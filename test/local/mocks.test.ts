import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { printWarnings, setupMocks, warnings } from "../../local/mocks";

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
