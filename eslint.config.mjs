// typescript-eslint's recommended rules over the program, handlers, local runtime, bench and tests.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  // What git ignores (scratch/, bin/) is not linted either.
  {
    ignores: ["node_modules/", ".switchyard/", "scratch/", "bin/", "test/fixtures/eventPatterns/"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // A Pulumi callback's closure is serialized: a module it uses is `require`d inside the
      // callback so the serializer captures a module reference, not the module's values.
      "@typescript-eslint/no-require-imports": "off",
      // Events, resource inputs and AWS wire formats are untyped JSON at these boundaries.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
    },
  },
  {
    // The console's page script runs in the browser.
    files: ["local/console/*.js"],
    languageOptions: { globals: globals.browser, sourceType: "script" },
  },
  {
    files: ["test/**"],
    // chai's property assertions (`expect(x).to.be.true`) are expressions.
    rules: { "@typescript-eslint/no-unused-expressions": "off" },
  },
);
