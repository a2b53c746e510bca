// A stand-in for `next dev` in the tests of `npm run dev`'s supervision (scripts/dev-orchestrator.integration-test.ts):
// like next's CLI it forks the server process and stays alive when that process is killed by a signal; the
// server answers GET /api/health (and 200 to anything else). Run by scripts/dev.ts --app-script.
import { fork } from "node:child_process";
import http from "node:http";
const port = Number(process.argv[process.argv.indexOf("--port") + 1]);

if (process.env.STANDIN_ROLE === "server") {
  http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", standIn: true }));
  }).listen(port);
} else {
  setInterval(() => {}, 60_000); // like next's CLI: alive without its server
  const child = fork(import.meta.filename, process.argv.slice(2), { env: { ...process.env, STANDIN_ROLE: "server" } });
  // next dev: a server killed by a signal is not restarted and the CLI stays (exit code 0 if it is then stopped).
  const stop = () => {
    child.kill("SIGTERM");
    setTimeout(() => process.exit(0), 200);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
