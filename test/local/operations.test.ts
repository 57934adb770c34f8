import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { JSON_OPERATIONS } from "../../local/awsEndpoint";
import {
  OPERATIONS_DOC,
  regenerateOperationsDoc,
  renderOperationsTable,
  SERVED_OPERATIONS,
  servedTargets,
} from "../../local/services/operations";

describe("local: the table of operations the AWS endpoint serves", () => {
  it("docs/local.md reproduces SERVED_OPERATIONS", () => {
    const doc = fs.readFileSync(OPERATIONS_DOC, "utf8");
    expect(
      regenerateOperationsDoc(doc) === doc,
      `docs/local.md's table of served operations is out of date: run npx ts-node --transpile-only local/services/operations.ts. Expected:\n${renderOperationsTable()}`,
    ).to.equal(true);
  });

  it("names a module under local/services/ for every operation, and the endpoint serves the same X-Amz-Targets", () => {
    for (const o of SERVED_OPERATIONS)
      expect(
        fs.existsSync(path.join(__dirname, "..", "..", "local", "services", `${o.engine}.ts`)),
        `${o.service} ${o.operation}: local/services/${o.engine}.ts`,
      ).to.equal(true);
    expect(JSON_OPERATIONS).to.deep.equal(servedTargets());
    const keys = SERVED_OPERATIONS.map((o) => `${o.service} ${o.operation}`);
    expect(new Set(keys).size, "each operation once").to.equal(keys.length);
  });
});
