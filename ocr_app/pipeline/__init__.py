"""The worker's side of Inkdex: from a queued note to its stored lines.

An upload queues its note (``signals``), an owner queues it again (``tasks``).
A worker's task (``tasks``) claims the fairest queued note (``claims``), has
the engine the settings choose (``engine_selection``) read it while a heartbeat
says the worker lives (``runs``), and stores the lines if the claim is still
its own (``recognition``). An uploaded PDF is first split into page notes
(``pdf_splitting``). A failed run is tried again later; notes whose worker died
or whose task was lost are queued again (``recovery``).

Each module imports only those before it in this list, so there is no import
circle: engine_selection, claims, runs, recognition, pdf_splitting, tasks,
recovery, signals. (A run to be tried again says when; the task that ran it
queues the retry.)
"""
