"""The pytest plugin: test code that calls Bedrock against a local runtime, offline (see docs/TESTING.md)."""
