// The base of every error class a handler throws or answers with: its `name` is the error type the
// Lambda runtime reports (`errorType`), so an authorizer's `Unauthorized` is what API Gateway turns
// into 401 and a receiver's `MalformedRequest` is what its 400 names.
// test/components/handlerErrors.test.ts checks every function's bundle and the JWT authorizer's.
export class HandlerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}
