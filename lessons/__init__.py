"""The lessons: one readable script per model of the course.

Run ``python -m lessons`` for the list and ``python -m lessons.NAME --help``
for one lesson's flags; the plumbing they share is in ``lessons.common``.
"""
