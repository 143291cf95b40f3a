"""The core: model, loading, engine, journal, report. Imports no Textual."""
