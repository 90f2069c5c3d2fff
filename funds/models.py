"""Filled by a later issue; the app exists and is installed so the layout is complete."""
