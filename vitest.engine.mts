import { defineConfig } from "vitest/config";

// The real Pulumi CLI and language host built by engine/build.ts (built first if not cached).
export default defineConfig({
    test: {
        include: ["test/**/*.engine.test.ts"],
        globalSetup: ["test/support/buildSetup.ts", "test/support/engineSetup.ts"],
        testTimeout: 180_000,
        hookTimeout: 180_000,
        fileParallelism: false,
    },
});
