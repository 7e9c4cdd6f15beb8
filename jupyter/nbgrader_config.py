"""The learners' nbgrader settings (jupyter/ is on JUPYTER_CONFIG_PATH in `make lab`). The Validate
button's server side is rnncourse.autograder.validate_button (make validate's report); nbgrader's
own validator, if a learner runs it, lists every failing cell, not only the first."""

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.Validator.validate_all = True
