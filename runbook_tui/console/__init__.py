"""The console front end: ``--plain`` runs, resumes and follows, one line per event.

A front end beside the app (``ui/``), over the same core: ``printer`` turns events
into lines, ``asker`` asks on the terminal, ``runner`` drives a ``Session``.
"""
