// Records a hash of the console's sources in the build output, so a Python unit test
// (tests/console/test_build_fresh.py) fails when the committed build is older than the sources.
// tests/console/test_build_fresh.py repeats the algorithm: keep them in step.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const TOP = ["index.html", "package.json", "package-lock.json", "tsconfig.json", "vite.config.ts"];

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const files = [...TOP.map((f) => join(root, f)), ...walk(join(root, "src"))]
  .map((p) => relative(root, p).split(sep).join("/"))
  .sort();
const hash = createHash("sha256");
for (const file of files) {
  hash.update(file + "\n");
  hash.update(readFileSync(join(root, file)));
  hash.update("\n");
}
const out = join(root, "..", "server", "console", "static", "source-hash.txt");
writeFileSync(out, hash.digest("hex") + "\n");
console.log(`stamped ${files.length} source files into ${relative(join(root, ".."), out)}`);
