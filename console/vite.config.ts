import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// Built into the Python package (served at /console by server/console); committed, so running
// the console needs no npm. `npm run build` also stamps the source hash (scripts/stamp.mjs).
export default defineConfig({
  plugins: [preact()],
  base: "/console/",
  build: {
    outDir: "../server/console/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
});
