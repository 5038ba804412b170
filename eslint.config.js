// ESLint (flat config): the recommended rules of ESLint and typescript-eslint over the sources,
// tests, benchmarks and build scripts. Type-aware rules are left out: `npm run typecheck` covers
// types, and the syntactic set keeps `npm run lint` fast.
import js from "@eslint/js"
import { defineConfig } from "eslint/config"
import tseslint from "typescript-eslint"

export default defineConfig(
  { ignores: ["dist/", "node_modules/", "coverage/", "scratch/", "test-artifacts/"] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        // Node.js: every file here runs under Node (the dashboard's browser script is a string).
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        URL: "readonly",
        URLSearchParams: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        structuredClone: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        fetch: "readonly",
        performance: "readonly",
        queueMicrotask: "readonly"
      }
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // `_`-named bindings are deliberately unused (a skipped tuple element, a drained iterator).
      "@typescript-eslint/no-unused-vars": ["error", {
        argsIgnorePattern: "^_",
        varsIgnorePattern: "^_",
        caughtErrorsIgnorePattern: "^_",
        destructuredArrayIgnorePattern: "^_"
      }]
    }
  },
  {
    // CommonJS preloads (`node --require`), e.g. bench/lib/cpu-report.cjs.
    files: ["**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: { require: "readonly", module: "writable" } },
    rules: { "@typescript-eslint/no-require-imports": "off" }
  }
)
