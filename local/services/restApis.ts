// REST APIs: one local port per declared API (local/apigateway.ts), serving its stage.
import * as http from "http";
import { REGION } from "../mocks";
import { LocalRestApi } from "../apigateway";
import { REST_API_MAX_BODY_BYTES } from "../httpEvents";
import { Runtime } from "./context";

export class RestApisService {
  /** Local stage URL of each declared API, by its Pulumi name. */
  public readonly urls: Record<string, string> = {};
  public readonly apis: Record<string, LocalRestApi> = {};

  constructor(private readonly rt: Runtime) {}

  async serve(): Promise<void> {
    const rt = this.rt;
    for (const api of rt.of("aws:apigateway/restApi:RestApi")) {
      const local = new LocalRestApi(api, rt.program.resources, {
        invokeLambda: (fn, event) => rt.services.lambda.lambdas.invoke(fn, event),
        rewriteUrl: (u) => rt.services.records.rewriteUrl(u),
        log: (l) => rt.log(l),
      });
      this.apis[api.name] = local;
      const url = await rt.listen(
        http.createServer((req, res) => local.handle(req, res)),
        `API ${api.name}`,
        REST_API_MAX_BODY_BYTES,
        "apiGateway",
      );
      this.urls[api.name] = `${url}/${local.stageName}`;
    }
  }

  /** The local URL serving a declared API stage URL, or undefined. */
  toLocalUrl(publicUrl: string): string | undefined {
    for (const [name, local] of Object.entries(this.apis)) {
      const prefix = `https://${name}-id.execute-api.${REGION}.amazonaws.com/${local.stageName}`;
      if (publicUrl.startsWith(prefix)) return this.urls[name] + publicUrl.slice(prefix.length);
    }
    return undefined;
  }
}
