// `npm run demo`: drives a running `npm start` (found through .switchyard/endpoints.json), or starts
// one in this process, with a signed delivery per enabled webhook provider, a duplicate, a forged
// one, a record event and a job (local/scenarios.ts), then a tenant's document, an S3 object with a
// bad record, a records gateway call, the DLQ read and an archive replay started with the AWS CLI
// (local/pipelineScenarios.ts), and outbound webhooks (local/outboundScenarios.ts); prints what
// happened and exits non-zero if anything did not.
import "./polyfills";
import * as fs from "fs";
import { ENDPOINTS_FILE } from "./cli";
import { allScenarios, Target } from "./scenarios";
import { pipelineScenarios } from "./pipelineScenarios";
import { outboundScenarios } from "./outboundScenarios";
import { SwitchyardLocal } from "./runtime";

function running(): Target | undefined {
  if (!fs.existsSync(ENDPOINTS_FILE)) return undefined;
  const info = JSON.parse(fs.readFileSync(ENDPOINTS_FILE, "utf8"));
  try {
    process.kill(info.pid, 0);
    return info.target;
  } catch {
    return undefined;
  }
}

async function main() {
  let target = running();
  let local: SwitchyardLocal | undefined;
  if (target) {
    console.log(`Using the running instance (${target.aws}).`);
  } else {
    console.log("No running instance (npm start): starting one in this process (stack dev)...");
    local = await SwitchyardLocal.start({ stack: "dev", speed: 0.01, log: () => undefined });
    target = await local.scenarioTarget();
  }
  const outcomes = [...(await allScenarios(target)), ...(await pipelineScenarios(target))];
  outcomes.push(...(await outboundScenarios(target, (l) => console.log(l))));
  const width = Math.max(...outcomes.map((o) => o.step.length));
  console.log("");
  for (const o of outcomes)
    console.log(`${o.ok ? "PASS" : "FAIL"}  ${o.step.padEnd(width)}  ${o.detail}`);
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`\n${outcomes.length - failed} passed, ${failed} failed`);
  await local?.stop();
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
