// Function URLs: one local port per declared URL, each request turned into the event Lambda's
// Function URL sends and answered from the function's result.
import * as http from "http";
import { randomUUID } from "crypto";
import { RECEIVER_ENV } from "../../lib/contracts";
import { REGION } from "../mocks";
import { webhookFact } from "../journalFacts";
import {
  FUNCTION_URL_MAX_BODY_BYTES,
  functionUrlEvent,
  readRequestBody,
  writeLambdaResponse,
} from "../httpEvents";
import { AwsError } from "../awsEndpoint";
import { Runtime } from "./context";

export class FunctionUrlsService {
  /** Local URL of each declared Function URL, by its Pulumi name. */
  public readonly urls: Record<string, string> = {};

  constructor(private readonly rt: Runtime) {}

  async serve(): Promise<void> {
    const lambdas = this.rt.services.lambda.lambdas;
    for (const u of this.rt.of("aws:lambda/functionUrl:FunctionUrl")) {
      const fn = lambdas.resolve(String(u.inputs.functionName));
      // A webhook receiver's answers go to the journal with their verdict.
      const provider = fn.environment[RECEIVER_ENV.provider];
      const server = http.createServer(async (req, res) => {
        const body = await readRequestBody(req);
        // The domain the program's URL names: senders such as Twilio sign the URL they post to.
        const domain = `${u.name}.lambda-url.${REGION}.on.aws`;
        const requestId = randomUUID();
        const journal = this.rt.services.eventBridge.journal;
        const since = journal.lastSeq;
        const noteVerdict = async (status: number, responseBody?: string) => {
          if (!provider) return;
          const fact = () =>
            webhookFact({
              provider,
              function: fn.name,
              status,
              responseBody,
              logLines: (this.rt.services.lambda.logs.get(fn.name) ?? [])
                .filter((r) => r.requestId === requestId)
                .map((r) => r.message),
              putsSince: journal.since(since),
            });
          let f = fact();
          // An accepted delivery reaches the bus through the relay, after the answer: the entry
          // names the event once the relay has published it (or after a few seconds without).
          for (let waited = 0; f.verdict === "accepted" && !f.eventId && waited < 5000;) {
            await new Promise((r) => setTimeout(r, 25));
            waited += 25;
            f = fact();
          }
          journal.note(f);
        };
        try {
          const result: any = await lambdas.invoke(
            fn.name,
            functionUrlEvent(req, body, domain),
            requestId,
          );
          writeLambdaResponse(res, result);
          await noteVerdict(
            Number(result?.statusCode ?? 200),
            typeof result?.body === "string" ? result.body : undefined,
          );
        } catch (e: any) {
          await noteVerdict(e instanceof AwsError && e.status === 429 ? 429 : 502, undefined);
          if (e instanceof AwsError && e.status === 429) {
            // Past the function's reserved concurrency, as a Function URL answers it.
            this.rt.log(`  function ${fn.name} throttled: ${e.message}`);
            res.writeHead(429, {
              "content-type": "application/json",
              "x-amzn-errortype": e.code,
            });
            res.end(JSON.stringify({ Message: e.message }));
            return;
          }
          this.rt.log(`  function ${fn.name} error: ${e.name}: ${e.message}`);
          res.writeHead(502, { "content-type": "application/json" });
          res.end(JSON.stringify({ Message: "Internal Server Error" }));
        }
      });
      this.urls[u.name] =
        `${await this.rt.listen(server, `function URL ${u.name}`, FUNCTION_URL_MAX_BODY_BYTES, "functionUrl")}/`;
    }
  }

  /** The local URL serving a declared Function URL, or undefined. */
  toLocalUrl(publicUrl: string): string | undefined {
    for (const u of this.rt.of("aws:lambda/functionUrl:FunctionUrl")) {
      const prefix = `https://${u.name}.lambda-url.${REGION}.on.aws/`;
      if (publicUrl.startsWith(prefix)) return this.urls[u.name] + publicUrl.slice(prefix.length);
    }
    return undefined;
  }
}
