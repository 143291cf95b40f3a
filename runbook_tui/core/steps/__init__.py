"""Step kinds, one module each, all behind :class:`~.base.StepRunner`."""
