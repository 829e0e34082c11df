import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        globalSetup: ["test/support/buildSetup.ts"],
        include: ["test/**/*.test.ts"],
        // Real daemons and real packets (root, Linux): npm run test:integration; the real Pulumi
        // engine: npm run test:engine; the real provider plugins: npm run test:providers.
        exclude: ["test/**/*.integration.test.ts", "test/**/*.engine.test.ts", "test/**/*.providers.test.ts"],
        testTimeout: 60_000,
        hookTimeout: 60_000,
        // Plan tests start child processes; two cores are all there is.
        maxWorkers: 2,
    },
});
