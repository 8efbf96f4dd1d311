"""Seeded random-program generator (differential fuzzer) for Ember; see generator.py."""
