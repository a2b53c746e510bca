import drizzle from "eslint-plugin-drizzle";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

// `next lint` no longer exists; eslint runs directly (`npm run lint`).
const config = [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [".next/**", ".data/**", "node_modules/**", "next-env.d.ts", "db/migrations/**", "playwright-report/**", "test-results/**"],
  },
  {
    plugins: { drizzle },
    rules: {
      // Raw process.env belongs to config/env.js only (STYLE 19); app code imports it through server/env.js.
      "no-restricted-properties": ["error", { object: "process", property: "env", message: "Import `env` from server/env.js instead." }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // An UPDATE or DELETE without WHERE touches every row: never on purpose.
      "drizzle/enforce-delete-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
      "drizzle/enforce-update-with-where": ["error", { drizzleObjectName: ["db", "tx"] }],
    },
  },
  {
    files: ["config/env.js", "instrumentation.ts", "test/**", "e2e/**", "playwright.config.ts", "vitest.config.ts", "components/trpc/react.tsx", "scripts/**"],
    rules: { "no-restricted-properties": "off" },
  },
];
export default config;
