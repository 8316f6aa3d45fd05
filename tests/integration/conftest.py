"""The integration tests' stack (sandbox, live server, Celery worker) lives in
tests/live_stack.py, shared with the browser tests; `wait_for` stays importable here.
"""

from tests.live_stack import wait_for  # noqa: F401 - imported from here by the tests
