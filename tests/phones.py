"""Phone-sized browser checks shared by the browser tests: the phone sizes, the page
that fails its test on a script error or a Content-Security-Policy violation, and
the check that nothing is wider than the screen (`scrollWidth <= innerWidth`), with
a screenshot kept either way."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PHONES = {"360": {"width": 360, "height": 780}, "390": {"width": 390, "height": 844}}
FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# What sticks out, to say so when a page is too wide.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .slice(0, 5)
  .map(e => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`)"""


@contextmanager
def watched_page(browser, viewport: dict, **options) -> Iterator:
    """A page in a fresh context; script errors and anything the CSP blocked (every
    browser test proves the page works under the policy, Stripe.js included) fail
    the test once it is done. The page's `errors` list holds them meanwhile."""
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and errors.append(message.text),
    )
    page.errors = errors
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"JavaScript errors or CSP violations on the page: {errors}"


def assert_fits(page, folder: Path, name: str, width: int) -> None:
    """The page is `width` wide and nothing is wider; its screenshot goes to `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert page.evaluate("window.innerWidth") == width
    assert page.evaluate(FITS), (name, page.evaluate(WIDEST))
