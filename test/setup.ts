// Runs before every test file (see .mocharc.json).
import "../local/polyfills";

process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
// Warnings are kept (local/mocks.ts `warnings`), not printed: a test that expects one reads them.
(require("../local/mocks") as typeof import("../local/mocks")).printWarnings(false);
// Every event a handler publishes in any suite is checked against its registry schema.
export { mochaHooks } from "./support/publishedEvents";
