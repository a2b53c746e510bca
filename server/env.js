// The app's import point for configuration: the variables are read and validated, once, in config/env.js
// (outside server/ so db/ can use it too). Same module instance, so both paths see one parsed `env`.
export { DEV_FIELD_ENCRYPTION_KEY, env, envSchema, fieldKeyRingConfig, parseEnv } from "../config/env.js";

/** @typedef {import("../config/env.js").Env} Env */
