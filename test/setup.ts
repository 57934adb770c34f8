// Runs before every test file (see .mocharc.json).
import "../local/polyfills";

process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
const mocks = require("../local/mocks") as typeof import("../local/mocks");
// Warnings are kept (local/mocks.ts `warnings`), not printed: a test that expects one reads them.
mocks.printWarnings(false);
// Pulumi's per-promise stacks are formatted without source maps; other errors keep them.
mocks.unmappedPromiseStacks();
// A test worker reuses moto_servers, each reset to an empty account when it is given again
// (local/motoServer.ts, reuseMotoServers).
(require("../local/motoServer") as typeof import("../local/motoServer")).reuseMotoServers();
// mocha ends a worker that has not exited on its own in time with SIGTERM, which ends a Node
// process without its exit hooks: the moto_servers it keeps for reuse would be left running.
// Exiting on the signal runs them (each server is killed with its worker).
process.once("SIGTERM", () => process.exit(143));
// Every event a handler publishes in any suite is checked against its registry schema.
import { mochaHooks as publishedEventHooks } from "./support/publishedEvents";

/**
 * Before each file, once a file has loaded components/lambda.ts (which imports @pulumi/aws, so it
 * is not loaded here for the files that never need it): the worker reuses the bundles it built
 * (reuseBundles). A test of bundling itself turns that off in its own `before`, which runs after.
 */
function reuseBundlesOnceLoaded(): void {
  const lambda = require.cache[require.resolve("../components/lambda")];
  (lambda?.exports as typeof import("../components/lambda") | undefined)?.reuseBundles();
}

export const mochaHooks = {
  ...publishedEventHooks,
  beforeAll(this: Mocha.Context): void {
    reuseBundlesOnceLoaded();
    publishedEventHooks.beforeAll();
  },
};
