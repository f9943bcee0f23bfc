"""Widgets the pages share: the lazily filled result table, field panels, search inputs."""
