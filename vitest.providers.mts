import { defineConfig } from "vitest/config";

// The real provider plugins, built by hand outside the repository, in OVH_FAILOVER_PLUGINS
// (docs/testing.md): previews recorded under test/recorded/. Not run by .ci/run, which has no plugins.
export default defineConfig({
    test: {
        include: ["test/**/*.providers.test.ts"],
        // The plugins first: without them the tier says what it needs before building anything.
        globalSetup: ["test/support/pluginsSetup.ts", "test/support/buildSetup.ts", "test/support/engineSetup.ts"],
        testTimeout: 600_000,
        hookTimeout: 600_000,
        fileParallelism: false,
    },
});
