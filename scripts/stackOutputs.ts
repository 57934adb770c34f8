// Where the operator scripts (npm run outbound, npm run ops) read a deployed stack's names from:
// a saved `pulumi stack output --json` (--outputs <file>), else the Pulumi CLI for --stack <name>
// (or the selected stack). The SDK clients find AWS as usual (credentials, AWS_REGION, and
// AWS_ENDPOINT_URL for any other endpoint).
import { spawnSync } from "child_process";
import * as fs from "fs";

/** The stack's outputs: `--outputs <file>` first, then `pulumi stack output --json [--stack]`. */
export function stackOutputs(flags: Record<string, string[]>, hint: string): Record<string, any> {
  if (flags.outputs) return JSON.parse(fs.readFileSync(flags.outputs[0], "utf8"));
  const args = ["stack", "output", "--json", ...(flags.stack ? ["--stack", flags.stack[0]] : [])];
  const r = spawnSync("pulumi", args, { encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(
      `could not read the stack's outputs with \`pulumi ${args.join(" ")}\` (${r.error?.message ?? r.stderr.trim()}): ${hint}`,
    );
  return JSON.parse(r.stdout);
}
