"""Rendering: one result model, many formats (table, JSON, CSV, JUnit, HTML)."""
