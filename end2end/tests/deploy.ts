// Deployments for the redeploy test: a build is a folder with the server
// binary, its hash.txt and the site, as an operator would ship it.
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

const root = path.resolve(__dirname, "..", "..");

export interface Build {
  dir: string;
  /** The content hash of the wasm, as in hash.txt. */
  wasmHash: string;
}

function hashes(dir: string): Record<string, string> {
  const lines = fs.readFileSync(path.join(dir, "hash.txt"), "utf8").trim().split("\n");
  return Object.fromEntries(lines.map((l) => l.split(":").map((s) => s.trim()) as [string, string]));
}

/** The build under target/ (what `scripts/build-site` made), copied to `dir`. */
export function currentBuild(dir: string): Build {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(root, "target/debug/fieldbook"), path.join(dir, "fieldbook"));
  fs.chmodSync(path.join(dir, "fieldbook"), 0o755);
  fs.copyFileSync(path.join(root, "target/debug/hash.txt"), path.join(dir, "hash.txt"));
  fs.cpSync(path.join(root, "target/site"), path.join(dir, "site"), { recursive: true });
  return { dir, wasmHash: hashes(dir).wasm };
}

/**
 * A second release of `first`: every build file changes content and so
 * name (the wasm gains a custom section, JS and CSS a comment), and the
 * shell and the service worker are made again by the same steps as
 * `scripts/build-site`. A real rebuild gives the same shape in minutes.
 */
export function nextBuild(first: Build, dir: string): Build {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(first.dir, "fieldbook"), path.join(dir, "fieldbook"));
  fs.chmodSync(path.join(dir, "fieldbook"), 0o755);
  fs.cpSync(path.join(first.dir, "site"), path.join(dir, "site"), { recursive: true });
  const pkg = path.join(dir, "site", "pkg");
  const old = hashes(first.dir);
  const fresh: Record<string, string> = {};
  for (const ext of ["js", "wasm", "css"]) {
    const file = path.join(pkg, `fieldbook.${old[ext]}.${ext}`);
    let content = fs.readFileSync(file);
    const mark = `fieldbook second build ${Date.now()}`;
    content =
      ext === "wasm"
        ? Buffer.concat([content, customSection("fb-build", mark)])
        : Buffer.concat([content, Buffer.from(`\n/* ${mark} */\n`)]);
    fresh[ext] = crypto.createHash("md5").update(content).digest("base64url");
    fs.rmSync(file);
    for (const suffix of ["", ".br", ".gz"]) fs.rmSync(file + suffix, { force: true });
    fs.writeFileSync(path.join(pkg, `fieldbook.${fresh[ext]}.${ext}`), content);
  }
  fs.writeFileSync(
    path.join(dir, "hash.txt"),
    Object.entries(fresh).map(([k, v]) => `${k}: ${v}\n`).join(""),
  );
  const site = path.join(dir, "site");
  const shell = execFileSync(path.join(dir, "fieldbook"), ["shell", "--site-root", site]);
  fs.writeFileSync(path.join(site, "shell.html"), shell);
  execFileSync("node", [path.join(root, "frontend/service-worker.mjs"), site], { stdio: "ignore" });
  return { dir, wasmHash: fresh.wasm };
}

/** A wasm custom section: id 0, size, name, payload (all sizes < 128). */
function customSection(name: string, payload: string): Buffer {
  const body = Buffer.concat([Buffer.from([name.length]), Buffer.from(name), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0, body.length]), body]);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** Serves `build` on `port` with the database at `databaseUrl`; resolves once healthy. */
export async function serve(build: Build, port: number, databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(path.join(build.dir, "fieldbook"), ["serve"], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      FIELDBOOK_ADDR: `127.0.0.1:${port}`,
      FIELDBOOK_DEMO: "1",
      LEPTOS_SITE_ROOT: path.join(build.dir, "site"),
      RUST_LOG: "warn",
    },
    stdio: "ignore",
  });
  for (let i = 0; i < 300; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill("SIGKILL");
  throw new Error(`fieldbook did not start on port ${port}`);
}

export async function stop(child: ChildProcess) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
