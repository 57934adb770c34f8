// A local S3 endpoint (path-style GetObject only) for handler tests: objects live in a map; a
// missing one gets S3's 404 NoSuchKey XML error, so the real S3Client raises its NoSuchKey.
import * as http from "http";
import { AddressInfo } from "net";

export class LocalS3 {
  public readonly objects = new Map<string, string>();
  public readonly gets: string[] = [];
  public url = "";
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const path = decodeURIComponent((req.url ?? "").split("?")[0]);
      this.gets.push(`${req.method} ${path}`);
      const text = req.method === "GET" ? this.objects.get(path.slice(1)) : undefined;
      if (text === undefined) {
        res.writeHead(req.method === "GET" ? 404 : 405, { "content-type": "application/xml" });
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${req.method === "GET" ? "NoSuchKey" : "MethodNotAllowed"}</Code><Message>The specified key does not exist.</Message><RequestId>r</RequestId></Error>`,
        );
        return;
      }
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        etag: '"e"',
      });
      res.end(text);
    });
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Stores an object under `<bucket>/<key>`. */
  put(bucket: string, key: string, value: unknown): void {
    this.objects.set(`${bucket}/${key}`, typeof value === "string" ? value : JSON.stringify(value));
  }

  stop(): Promise<void> {
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
