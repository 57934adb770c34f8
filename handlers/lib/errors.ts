// The base of every error class a handler throws or answers with.
//
// Pulumi's closure serialization (CallbackFunction) rewrites a class constructor into a function
// and its `super(message)` into `__super.call(this, message)`, and links the constructors but not
// their prototypes. For a built-in such as Error that call returns a new object and leaves `this`
// untouched, so in the deployed `__index.js` a plain `class X extends Error` has no message (a
// 400 answered with `{}`), and its instances are not `instanceof Error` (the Lambda runtime then
// reports them as "[object Object]", and an authorizer's "Unauthorized" becomes a 500). This base
// assigns name, message and stack to `this` itself and links the class's prototype to
// Error.prototype where the serializer did not, which holds in the source and the serialized code
// alike. test/components/handlerErrors.test.ts proves it on each function's archive.
export class HandlerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    if (!(this instanceof Error)) {
      // Serialized: the chain is instance -> X.prototype -> Object.prototype. Put Error.prototype
      // under the outermost class prototype once; later instances then find it themselves.
      let proto = Object.getPrototypeOf(this);
      while (
        Object.getPrototypeOf(proto) !== Object.prototype &&
        Object.getPrototypeOf(proto) !== null
      ) {
        proto = Object.getPrototypeOf(proto);
      }
      Object.setPrototypeOf(proto, Error.prototype);
    }
    // Own properties, set after super: they hold where super(...) did not initialize `this`.
    this.name = name;
    this.message = message;
    if (typeof this.stack !== "string" || !this.stack.includes(message)) {
      Object.defineProperty(this, "stack", {
        value: `${name}: ${message}\n${(new Error().stack ?? "").split("\n").slice(2).join("\n")}`,
        writable: true,
        configurable: true,
      });
    }
  }
}
