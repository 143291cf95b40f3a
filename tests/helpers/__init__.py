"""Helpers shared by the tests: import them as ``helpers.<module>``, never from another test file.

``tests/`` is on ``sys.path`` through pytest's ``pythonpath`` setting (pyproject.toml), so the
unit, integration, ui and scale folders all reach these modules the same way.
"""
