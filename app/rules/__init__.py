"""Rulebooks, categories, items, versions; the engine that turns a deed into points."""
