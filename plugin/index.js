/* global module */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS entry, for node to run */
// The plugin's entry for node (package.json main): it loads index.ts through tsx, registered
// here so that tsx resolves from this folder, not from the folder the CLI runs the plugin in.
// The schema analyzer reads index.ts, main's TypeScript twin (provider/experimental/analyzer.js).
require("tsx/cjs");
module.exports = require("./index.ts");
