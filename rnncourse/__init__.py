"""rnncourse: the library behind the RNN course.

One implementation, shared by the book, the exercises and the graders. A
module whose name carries a chapter key (``ch01_recurrence``) belongs to that
chapter; every other module is a concept that any chapter may use. Concept
modules never import chapter modules.

Where each concept and each chapter's files live is written once, in the
"Where things are" map of CONTRIBUTING.md (a test keeps it true).
"""

__version__ = "0.1.0"
