// Builds the console into the server's embedded assets (crates/http/console-dist). The file
// names carry content hashes and the build writes no timestamps, so the same sources always
// give the same bytes: scripts/check-console.sh rebuilds and compares with what is committed.
import { defineConfig } from "vitest/config";
import vue from "@vitejs/plugin-vue";

const server = process.env.GROWDESK_SERVER ?? "http://127.0.0.1:8080";

export default defineConfig({
  plugins: [vue()],
  // The console uses the Composition API only; leaving the Options API out makes Vue smaller.
  define: {
    __VUE_OPTIONS_API__: "false",
    __VUE_PROD_DEVTOOLS__: "false",
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
  },
  base: "/",
  build: {
    outDir: "../crates/http/console-dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // One script and one stylesheet: the console is small, and a single request is fastest.
    cssCodeSplit: false,
    modulePreload: false,
    sourcemap: false,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 200,
  },
  server: {
    proxy: {
      "/api": { target: server, ws: true, changeOrigin: false },
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
