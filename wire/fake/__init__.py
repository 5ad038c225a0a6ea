"""A local OpenAI-compatible server for the demo, the examples and the tests."""
