"""Server-rendered pages (3-D Secure challenge, Connect onboarding, errors).

``string.Template`` keeps the sandbox free of a template engine. Every value is
HTML-escaped here, so a template never receives raw input.
"""

from functools import cache
from html import escape
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _template(name: str) -> Template:
    return Template((TEMPLATES / name).read_text(encoding="utf-8"))


def render(request: Request, name: str, status_code: int = 200, **values: object) -> HTMLResponse:
    """Render ``templates/<name>`` with escaped ``values`` (plus ``$assets``)."""
    assets = str(request.url_for("sandbox-browser-assets", path="/")).rstrip("/")
    context = {key: escape(str(value)) for key, value in values.items()}
    html = _template(name).substitute(context, assets=escape(assets))
    # Pages are about one intent or link at one moment: never reuse them.
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def message(request: Request, heading: str, text: str, status_code: int) -> HTMLResponse:
    return render(request, "message.html", status_code, heading=heading, message=text)
