// One file per domain; this index is what drizzle-kit and the client see.
export * from "./auth";
export * from "./merchants";
