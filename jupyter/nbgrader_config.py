"""The learners' nbgrader settings, read by the Validate button of `make lab` (jupyter/ is on
JUPYTER_CONFIG_PATH there): list every failing cell, not only the first."""

c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.Validator.validate_all = True
