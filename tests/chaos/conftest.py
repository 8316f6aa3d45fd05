"""The fault suite's marker: `pytest -m "not chaos"` leaves it out."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "chaos: runs the real stack in child processes and injects faults (tests/chaos/)",
    )
