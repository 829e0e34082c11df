import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        include: ["test/**/*.test.ts"],
        exclude: ["test/integration/**"],
        testTimeout: 60_000,
        hookTimeout: 60_000,
        // Plan tests start child processes; two cores are all there is.
        maxWorkers: 2,
    },
});
