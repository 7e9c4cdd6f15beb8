"""rnncourse: the library behind the RNN course.

One implementation, shared by the book, the exercises and the graders:

========================  ===========================================  =========
module                    what it holds                                chapter
========================  ===========================================  =========
``rnncourse.data``        vocabularies, tokenising, padding, toy data  1
``rnncourse.scratch``     NumPy models, forward/backward pairs         1 onwards
``rnncourse.gradcheck``   numerical gradient checks                    2 onwards
``rnncourse.modules``     the same models as PyTorch modules           1 onwards
``rnncourse.training``    a training loop: clipping, early stopping    8
``rnncourse.figures``     the matplotlib figures of the book           all
``rnncourse.grading``     the checks the exercise notebooks run        all
========================  ===========================================  =========
"""

__version__ = "0.1.0"
