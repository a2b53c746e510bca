import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// Domain code (server/) never imports the Inngest SDK, directly or through another module (inngest/events.ts
// imports it): it names events through the catalog (server/events/catalog.ts) and enqueues them in the outbox.
// Tests may (they start the engine and the functions).

const ROOT = path.resolve(import.meta.dirname, "../..");
const isTest = (f: string) => /\.(test|integration-test)\.tsx?$/.test(f);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.(ts|tsx|js)$/.test(e.name) && !e.name.endsWith(".d.ts") && !isTest(p) ? [p] : [];
  });
}

const options: ts.CompilerOptions = { moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext, allowJs: true, baseUrl: ROOT, paths: { "@/*": ["./*"] } };

/** Every package a module reaches through the project's own modules, with the chain of files that leads there. */
function packagesReached(entries: string[]): Map<string, string[]> {
  const seen = new Set(entries);
  const packages = new Map<string, string[]>();
  const queue: [file: string, chain: string[]][] = entries.map((f) => [f, [f]]);
  while (queue.length > 0) {
    const [file, chain] = queue.shift()!;
    for (const { fileName: spec } of ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true).importedFiles) {
      const resolved = ts.resolveModuleName(spec, file, options, ts.sys).resolvedModule;
      if (!resolved || resolved.isExternalLibraryImport || resolved.resolvedFileName.includes(`${path.sep}node_modules${path.sep}`)) {
        if (!spec.startsWith(".") && !spec.startsWith("@/") && !spec.startsWith("node:")) {
          const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
          if (!packages.has(pkg)) packages.set(pkg, [...chain, spec]);
        }
        continue;
      }
      const next = resolved.resolvedFileName;
      if (!seen.has(next)) {
        seen.add(next);
        queue.push([next, [...chain, next]]);
      }
    }
  }
  return packages;
}

describe("server/ and the Inngest SDK", () => {
  it("no non-test module under server/ imports the inngest package, even transitively", () => {
    const entries = sourceFiles(path.join(ROOT, "server"));
    expect(entries.length).toBeGreaterThan(50);
    const chain = packagesReached(entries).get("inngest");
    expect(chain?.map((f) => path.relative(ROOT, f))).toBeUndefined();
  });

  it("the catalog is a leaf: it imports zod only", () => {
    const packages = packagesReached([path.join(ROOT, "server/events/catalog.ts")]);
    expect([...packages.keys()]).toEqual(["zod"]);
  });

  it("the check finds the SDK behind inngest/events.ts", () => {
    expect(packagesReached([path.join(ROOT, "inngest/events.ts")]).get("inngest")).toBeDefined();
  });
});
