"""The 通报 as PDF, printed from the same HTML the mail carries.

Engine: **WeasyPrint** (a dependency; it needs Debian's ``libpango-1.0-0``, present on any
desktop or server with fontconfig). It runs in-process with no browser and no sandbox (cron
as any user, root included), honours the template's CSS paged media (``@page`` A4 margins,
"page N / M" in the footer) and embeds only the fonts it uses. When WeasyPrint cannot be
imported (pango missing), headless **Chromium** is used if it is on PATH (``chromium
--headless --print-to-pdf``). Chinese needs a CJK font: Debian ``fonts-noto-cjk``
(``Noto Sans CJK SC``) or WenQuanYi; on Windows Microsoft YaHei / SimSun are in the font list.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from pathlib import Path

from govnet.errors import GovnetError
from govnet.i18n import _

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_TIMEOUT = 120.0


class PdfError(GovnetError):
    """No engine could print the PDF (exit 2: install what the message names)."""


def engines() -> list[str]:
    """The engines available here, preferred first: ``weasyprint``, ``chromium``."""
    out = []
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError):  # OSError: pango's shared library missing
        pass
    else:
        out.append("weasyprint")
    if chromium() is not None:
        out.append("chromium")
    return out


def chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def html_to_pdf(html: str, engine: str | None = None) -> bytes:
    """Print ``html`` (self-contained: no external assets are fetched) to PDF bytes."""
    available = engines()
    if engine is None:
        if not available:
            raise PdfError(
                _(
                    "--format pdf needs WeasyPrint (pip install weasyprint; Debian "
                    "libpango-1.0-0) or Chromium on PATH (Debian package chromium); for Chinese "
                    "text also fonts-noto-cjk"
                )
            )
        engine = available[0]
    if engine == "weasyprint":
        return _weasyprint(html)
    if engine == "chromium":
        return _chromium(html)
    raise PdfError(_("unknown PDF engine {engine!r} (weasyprint | chromium)", engine=engine))


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"external resource refused: {url}")


def _weasyprint(html: str) -> bytes:
    import weasyprint

    for name in ("weasyprint", "fontTools"):  # font subsetting chatter, not the user's business
        logging.getLogger(name).setLevel(logging.ERROR)
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    pdf = document.write_pdf()
    assert isinstance(pdf, bytes)
    return pdf


def _chromium(html: str) -> bytes:
    exe = chromium()
    if exe is None:
        raise PdfError(_("Chromium is not on PATH (Debian package chromium)"))
    with tempfile.TemporaryDirectory(prefix="govnet-pdf-") as tmp:
        page, out = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        page.write_text(html, encoding="utf-8")
        cmd = [
            exe,
            *chromium_flags(tmp),
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        _run(cmd)
        if not out.is_file():
            raise PdfError(_("chromium printed no PDF"))
        return out.read_bytes()


def chromium_flags(profile_dir: str) -> list[str]:
    """Headless, offline, no sandbox (root in cron), a private throwaway profile."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-default-apps",
        "--mute-audio",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--user-data-dir={profile_dir}/profile",
        "--crash-dumps-dir=" + profile_dir,
    ]


def _run(cmd: list[str]) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=CHROMIUM_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise PdfError(
            _(
                "chromium did not finish in {chromium_timeout:.0f} s",
                chromium_timeout=CHROMIUM_TIMEOUT,
            )
        ) from None
    except OSError as exc:
        raise PdfError(_("cannot run chromium: {strerror}", strerror=exc.strerror)) from None
    if done.returncode != 0:
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise PdfError(
            _(
                "chromium failed (exit {returncode}): {tail}",
                returncode=done.returncode,
                tail=tail[0][:200],
            )
        )


def screenshot(html: str, out: Path, width: int = 1240, height: int = 1754) -> None:
    """Render ``html`` in headless Chromium to a PNG (A4 at 150 dpi by default)."""
    exe = chromium()
    if exe is None:
        raise PdfError(_("Chromium is not on PATH (Debian package chromium)"))
    with tempfile.TemporaryDirectory(prefix="govnet-png-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        _run(
            [
                exe,
                *chromium_flags(tmp),
                f"--window-size={width},{height}",
                "--hide-scrollbars",
                f"--screenshot={out}",
                page.as_uri(),
            ]
        )
