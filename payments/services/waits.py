"""`NotYet`: an outbox row's work that waits on other work not done yet."""


class NotYet(Exception):
    """The work waits on other work not done yet (a transfer not sent, a capture of
    the checkout on its way, a contractor's balance still pending): the task makes
    the row due again after a backoff (payments/tasks.py), as for a passing failure."""
