// Error classes survive closure serialization: in the archive `pulumi up` uploads, every error a
// handler throws or answers with keeps its name and message and is an Error to the Lambda runtime.
// A plain `class X extends Error` does not (handlers/lib/errors.ts says why), so none is allowed.
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

/** The constructors in serialized code whose `super` is the built-in Error. */
function errorConstructors(code: string): string[] {
  const out: string[] = [];
  const marker = "__super: global.Error";
  for (let i = code.indexOf(marker); i >= 0; i = code.indexOf(marker, i + 1)) {
    const start = code.indexOf("return function", i);
    out.push(code.slice(start, code.indexOf("\n      };", start)));
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
    it(`${stack}: every serialized constructor whose super is Error is HandlerError's, which sets name, message and the prototype`, async () => {
      const program = await evaluateProgram(stack);
      await settle();
      const names = program.resources
        .filter((r) => r.type === "aws:lambda/function:Function")
        .map((r) => r.name);
      expect(names.length).to.be.greaterThan(5);
      let constructors = 0;
      for (const name of names) {
        const [entry] = await archiveEntries(functionArchives.get(name)!);
        for (const ctor of errorConstructors(String(entry.text))) {
          constructors++;
          expect(ctor, `${name}: an error constructor that would lose its message`).to.contain(
            "this.message = message;",
          );
          expect(ctor, name).to.contain("Object.setPrototypeOf(proto, Error.prototype);");
        }
        expect(String(entry.text), name)
          .to.not.contain("EventPatternError")
          .and.not.contain("InputTransformerError");
      }
      // The receivers carry MalformedRequest and PublishFailed through HandlerError.
      expect(constructors).to.be.greaterThan(0);
    });
  }

  describe("the JWT authorizer of the jobs API, as serialized", () => {
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
