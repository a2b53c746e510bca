// Loaded into the `next start` process by scripts/start/app.ts (`node --require`), before Next itself:
//   - the app dies with its start:app parent: the parent holds an IPC channel to it, which closes when the
//     parent dies however it died (SIGKILL included), so a supervisor's restart never finds the old
//     next-server still holding the port;
//   - an uncaught exception or an unhandled rejection ends the process with exit code 1 instead of being
//     only logged (Next's own handlers keep serving after one): the supervisor then restarts a clean process.
"use strict";

function fatal(what) {
  return (err) => {
    console.error(`[app] fatal: ${what}:`, err);
    process.exit(1);
  };
}
process.on("uncaughtException", fatal("uncaught exception"));
process.on("unhandledRejection", fatal("unhandled rejection"));

if (process.channel) {
  process.channel.unref();
  process.on("disconnect", () => {
    console.error("[app] the start:app process is gone: exiting");
    process.exit(1);
  });
}
