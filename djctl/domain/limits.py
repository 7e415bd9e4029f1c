"""Limits shared by the scheme rules and the form readers, in a module of their own: a process that only
reads forms (io/read_workers.py) imports this, not the whole scheme."""

FORM_MAX_ROWS = 5000     # rows the form readers accept in one sheet (selfeval, check forms)
MAX_TASKS = FORM_MAX_ROWS - 100  # tasks in one month's list: every form djctl writes must be one it can read back
