// REST APIs: one local port per declared API (local/apigateway.ts), serving each of its stages;
// their throttles and quotas share one meter, as a usage plan may span stages of several APIs.
import * as http from "http";
import { REGION } from "../mocks";
import { LocalRestApi } from "../apigateway";
import { ApiThrottles } from "../apiThrottles";
import { REST_API_MAX_BODY_BYTES } from "../httpEvents";
import { Runtime } from "./context";

export class RestApisService {
  /** Local stage URL of each declared API, by its Pulumi name. */
  public readonly urls: Record<string, string> = {};
  public readonly apis: Record<string, LocalRestApi> = {};
  /** Every API's token buckets and quota counters. */
  public readonly throttles = new ApiThrottles();
  /** Local port URL of each declared API, by its Pulumi name (its stages are paths under it). */
  private readonly roots: Record<string, string> = {};

  constructor(private readonly rt: Runtime) {}

  async serve(): Promise<void> {
    const rt = this.rt;
    for (const api of rt.of("aws:apigateway/restApi:RestApi")) {
      const local = new LocalRestApi(api, rt.program.resources, {
        invokeLambda: (fn, event) => rt.services.lambda.lambdas.invoke(fn, event),
        rewriteUrl: (u) => rt.services.records.rewriteUrl(u),
        log: (l) => rt.log(l),
        throttles: this.throttles,
      });
      this.apis[api.name] = local;
      const url = await rt.listen(
        http.createServer((req, res) => local.handle(req, res)),
        `API ${api.name}`,
        REST_API_MAX_BODY_BYTES,
        "apiGateway",
      );
      this.roots[api.name] = url;
      this.urls[api.name] = `${url}/${local.stageName}`;
    }
  }

  /** The local URL serving a declared API stage URL, or undefined. */
  toLocalUrl(publicUrl: string): string | undefined {
    for (const name of Object.keys(this.apis)) {
      const prefix = `https://${name}-id.execute-api.${REGION}.amazonaws.com/`;
      if (publicUrl.startsWith(prefix))
        return `${this.roots[name]}/${publicUrl.slice(prefix.length)}`;
    }
    return undefined;
  }
}
