// In the archive `pulumi up` uploads, every error a handler throws or answers with keeps its name
// and message and is an Error to the Lambda runtime: every error class extends HandlerError
// (handlers/lib/errors.ts), which sets both.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { resetRecorded, settle, setupMocks, valueOf } from "../mocks";

setupMocks();
import { functionArchives } from "../../components/lambda";
import { JobsApi } from "../../components/jobs/jobsApi";
import { archiveEntries, LambdaHost, LambdaInvokeError, materialize } from "../../local/artifacts";
import { evaluateProgram } from "../program";

const ROOT = path.join(__dirname, "..", "..");

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/**
 * The error classes a bundle defines in this project's own code (esbuild marks where each source
 * file starts with a `// <path>` line), with what each extends.
 */
function projectErrorClasses(code: string): Array<{ file: string; name: string; base: string }> {
  const out: Array<{ file: string; name: string; base: string }> = [];
  let file = "";
  for (const line of code.split("\n")) {
    const start = line.match(/^\/\/ ([\w@./-]+\.[jt]s)$/);
    if (start) file = start[1];
    // esbuild writes `class X extends Y` as `var X = class [_X] extends Y`.
    const cls = line.match(/^\s*(?:var (\w+) = class(?: \w+)?|class (\w+)) extends (\w+)/);
    if (cls && !file.startsWith("node_modules/"))
      out.push({ file, name: cls[1] ?? cls[2], base: cls[3] });
  }
  return out;
}

describe("error classes in the deployed artifacts", () => {
  it("no handler code extends Error directly: every error class extends HandlerError", () => {
    const offenders = [
      ...sourceFiles(path.join(ROOT, "handlers")),
      ...sourceFiles(path.join(ROOT, "lib")),
    ]
      .filter((f) => !f.endsWith(path.join("handlers", "lib", "errors.ts")))
      .flatMap((f) =>
        fs
          .readFileSync(f, "utf8")
          .split("\n")
          .map((line, n) => ({ line, where: `${path.relative(ROOT, f)}:${n + 1}` }))
          .filter(({ line }) => /class\s+\w+\s+extends\s+(Error|TypeError|RangeError)\b/.test(line))
          .map(({ where }) => where),
      );
    // lib/ is deploy-time and local-runtime code; no function bundles it (checked below by content).
    expect(offenders.filter((o) => o.startsWith("handlers"))).to.deep.equal([]);
  });

  for (const stack of ["dev", "prod"]) {
    it(`${stack}: every error class a bundle carries from this project is HandlerError or extends it`, async () => {
      const program = await evaluateProgram(stack);
      await settle();
      const names = program.resources
        .filter((r) => r.type === "aws:lambda/function:Function")
        .map((r) => r.name);
      expect(names.length).to.be.greaterThan(5);
      let subclasses = 0;
      for (const name of names) {
        const [entry] = await archiveEntries(functionArchives.get(name)!);
        for (const c of projectErrorClasses(String(entry.text))) {
          if (c.base === "Error") {
            expect(c, `${name}: only HandlerError extends Error`).to.deep.equal({
              file: "handlers/lib/errors.ts",
              name: "HandlerError",
              base: "Error",
            });
          } else if (c.base === "HandlerError") subclasses++;
        }
        expect(String(entry.text), name)
          .to.not.contain("EventPatternError")
          .and.not.contain("InputTransformerError");
      }
      // The receivers carry MalformedRequest and PublishFailed, the JWT authorizer Unauthorized.
      expect(subclasses).to.be.greaterThan(0);
    });
  }

  describe("the JWT authorizer of the jobs API, as bundled", () => {
    let host: LambdaHost;
    before(async () => {
      resetRecorded();
      const api = new JobsApi("errjobs", {
        busArn: "arn:aws:events:eu-west-1:123456789012:event-bus/b",
        logRetentionDays: 7,
        auth: "jwt",
        jwt: {
          issuer: "https://id.example.com/",
          audience: "jobs",
          jwksUrl: "https://id.example.com/.well-known/jwks.json",
        },
      });
      await valueOf(api.invokeUrl);
      await settle();
      const dir = await materialize(functionArchives.get("errjobs-jwt")!);
      host = await LambdaHost.start(dir, {
        env: {
          JWT_ISSUER: "https://id.example.com/",
          JWT_AUDIENCE: "jobs",
          JWKS_URL: "http://127.0.0.1:9/jwks.json",
          JWKS_CACHE_SECONDS: "3600",
        },
        functionName: "errjobs-jwt",
      });
    });
    after(async () => host?.stop());

    it("fails a bad token with the error API Gateway turns into 401: type Unauthorized, message Unauthorized", async () => {
      try {
        await host.invoke({
          type: "TOKEN",
          authorizationToken: "Bearer not-a-jwt",
          methodArn: "arn:aws:execute-api:eu-west-1:1:api/v1/POST/jobs",
        });
        expect.fail("the authorizer allowed a bad token");
      } catch (e) {
        expect(e).to.be.instanceOf(LambdaInvokeError);
        expect({
          type: (e as LambdaInvokeError).errorType,
          message: (e as Error).message,
        }).to.deep.equal({ type: "Unauthorized", message: "Unauthorized" });
      }
    });
  });
});
