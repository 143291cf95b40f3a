"""The post-incident report: computed from a session's journal alone (timeline), then formatted."""
