import { defineConfig } from "vitest/config";

// Real daemons and real packets in network namespaces: Linux, root.
export default defineConfig({
    test: {
        globalSetup: ["test/support/buildSetup.ts"],
        include: ["test/**/*.integration.test.ts"],
        testTimeout: 120_000,
        hookTimeout: 120_000,
        fileParallelism: false,
    },
});
