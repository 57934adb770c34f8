// Runs before every test file (see .mocharc.json).
import "../local/polyfills";

process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
