// aws-sdk-client-mock on one client instance: mockClient(SomeClient) would stub the class's `send`
// for the whole mocha process, and other test files (the local runtime) use real clients.
import { AwsStub, mockClient } from "aws-sdk-client-mock";

export function mockInstance<C extends { send: (...args: any[]) => any }>(
  client: C,
): AwsStub<any, any, any> {
  // Start from the SDK base Client's own send, whatever a class-level mock elsewhere did.
  let real: unknown;
  for (let p = Object.getPrototypeOf(client); p; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, "send") && p.constructor?.name === "Client")
      real = p.send;
  }
  if (typeof real !== "function") throw new Error("mockInstance: not an AWS SDK v3 client");
  Object.defineProperty(client, "send", { value: real, writable: true, configurable: true });
  return mockClient(client as any) as unknown as AwsStub<any, any, any>;
}
