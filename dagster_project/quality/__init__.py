"""The quality gate: raw contract checks, Great Expectations suites, freshness, and the verdict."""
