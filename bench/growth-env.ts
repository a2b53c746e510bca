// Imported first by bench/growth.ts, before any module reads server/env.js: the bench measures the hot path, not the
// per-key rate limit (600 requests a minute by default).
// eslint-disable-next-line no-restricted-properties
const processEnv = process.env;
Object.assign(processEnv, { API_RATE_LIMIT_PER_KEY: "100000000", API_RATE_LIMIT_PER_IP: "100000000", LOG_LEVEL: processEnv.LOG_LEVEL ?? "warn" });
