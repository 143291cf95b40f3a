"""Sub-commands: each module has ``run(args) -> int`` and does its imports lazily."""
