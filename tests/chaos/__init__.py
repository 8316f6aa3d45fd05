"""The fault suite: the real stack in child processes, faults injected, money checked.

`make chaos` (tests/chaos/run.py) runs the long version and prints the table;
tests/chaos/test_chaos.py runs a short version under `make test`.
"""
