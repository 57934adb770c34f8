// The records API: the built-in stand-in (or the --records-endpoint given), serving the https
// endpoint the program configures; API destinations and HTTP Tasks are pointed at it.
import { RecordsStandIn } from "../recordsStandIn";
import { CLIENT_TIMEOUTS } from "../httpEvents";
import { Runtime } from "./context";

export class RecordsApiService {
  public standIn?: RecordsStandIn;
  public url = "";
  private origin?: string;

  constructor(
    private readonly rt: Runtime,
    private readonly opts: {
      recordsEndpoint?: string;
      clientTimeouts?: Partial<typeof CLIENT_TIMEOUTS>;
    },
  ) {}

  async start(): Promise<void> {
    const cfg = this.rt.program.config;
    this.origin = cfg["switchyard:recordsApiEndpoint"]
      ? new URL(cfg["switchyard:recordsApiEndpoint"]).origin
      : undefined;
    if (this.opts.recordsEndpoint) {
      this.url = this.opts.recordsEndpoint;
      return;
    }
    const standIn = new RecordsStandIn({
      apiKey: cfg["switchyard:recordsApiKey"],
      anchorAfterMs: 60_000 * this.rt.speed,
      log: (l) => this.rt.log(`  ${l}`),
      clientTimeouts: this.opts.clientTimeouts,
    });
    this.standIn = standIn;
    this.url = await this.rt.onNextPort((port) => standIn.start(port));
  }

  /** Serves an https endpoint of the records API from where it runs locally. */
  rewriteUrl(url: string): string {
    if (this.origin && url.startsWith(this.origin)) return this.url + url.slice(this.origin.length);
    return url;
  }

  stop(): Promise<void> | undefined {
    return this.standIn?.stop();
  }
}
