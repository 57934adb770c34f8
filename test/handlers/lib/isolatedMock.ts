// aws-sdk-client-mock for one client instance, unaffected by class-level mocks in other test files
// (mockClient(SomeClient) stubs SomeClient.prototype.send for the whole mocha process, and a
// stubbed inherited send makes mocking an instance of that class fail).
import { AwsStub, mockClient } from "aws-sdk-client-mock";

/** Mocks `send` of this instance only, starting from the SDK base Client's real send. */
export function mockInstance(client: { send: (...args: any[]) => any }): AwsStub<any, any, any> {
  let real: unknown;
  for (let p = Object.getPrototypeOf(client); p; p = Object.getPrototypeOf(p)) {
    if (Object.prototype.hasOwnProperty.call(p, "send") && p.constructor?.name === "Client")
      real = p.send;
  }
  if (typeof real !== "function") throw new Error("mockInstance: not an AWS SDK v3 client");
  Object.defineProperty(client, "send", { value: real, writable: true, configurable: true });
  return mockClient(client as any) as unknown as AwsStub<any, any, any>;
}
