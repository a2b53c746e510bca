// Keys of the test wiring (plain JS, no imports: vitest.config.ts loads it natively too). Tests run as production does: the
// SDK verifies every call to serve(), the engine signs them with this key.
export const TEST_SIGNING_KEY = "signkey-test-5e1f0c9a7b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f";
export const TEST_EVENT_KEY = "test";
