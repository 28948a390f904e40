"""Chromium itself: which binary, its version (known without starting it), its flags and the launcher script.

The browser host (``_browser``) starts it through ``_launch_script``; ``check_browser`` says what is
missing and how to fix it.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess

from visplotbench.engine._types import EnvironmentProblem

JS_HEAP_MB = 2048

FLAGS = (
    "--headless --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync --disable-dev-shm-usage --disable-extensions --disable-breakpad "
    "--disable-crash-reporter --mute-audio --hide-scrollbars --force-color-profile=srgb --font-render-hinting=none "
    "--disable-lcd-text --force-webrtc-ip-handling-policy=disable_non_proxied_udp "
    f"--js-flags=--max-old-space-size={JS_HEAP_MB} "
    # Pooled pages in separate contexts count as background windows: without these their timers
    # would be throttled (the settle wait polls every 10 ms) and their renderers deprioritised.
    "--disable-background-timer-throttling --disable-backgrounding-occluded-windows --disable-renderer-backgrounding "
    # The page a job leaves must not live on in the back-forward cache; no hang dialogs, no flood
    # protection slowing a chatty page's messages, no field trials changing behaviour between runs.
    "--disable-back-forward-cache --disable-hang-monitor --disable-ipc-flooding-protection --disable-field-trial-config "
    # WebGL (3-D plotly) on the CPU; a mouse-like pointer for (hover:hover) media queries; the
    # screenshot path these settings were measured with. Playwright, which drove the browser
    # before, passed the same, so pages render as they did.
    "--enable-unsafe-swiftshader --enable-features=CDPScreenshotNewSurface "
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4 "
    "--disable-client-side-phishing-detection --disable-component-extensions-with-background-pages "
    "--disable-default-apps --no-default-browser-check --metrics-recording-only --password-store=basic "
    "--use-mock-keychain --no-service-autorun "
    # Chromium's own sandbox stays off, as Playwright ran it: it needs user namespaces inside
    # bubblewrap's, which not every machine allows; the whole browser is in bubblewrap instead.
    "--no-sandbox"
).split()


# Chromium features turned off (CPU per job, measured on the bundled HTML pages):
#   RenderDocument: a new frame host, widget and compositor for every navigation; each job is a
#     navigation, and reusing them saves about a tenth of an HTML job's CPU. Every job still gets a
#     new document at a new origin.
#   WebUIOmniboxPopup*: the address bar's popup is a WebUI page that every new window (= every new
#     tab of ours) loads in an extra renderer (about 0.25 CPU-s each); headless pages never show it.
DISABLED_FEATURES = (
    "RenderDocument", "WebUIOmniboxPopup", "WebUIOmniboxAimPopup", "WebUIOmniboxFullPopup",
    # Background network and behaviour that a test browser does without (as Playwright had them).
    "PaintHolding", "HttpsUpgrades", "OptimizationHints", "MediaRouter", "NetworkTimeServiceQuerying",
    "PreconnectToSearch", "AvoidUnnecessaryBeforeUnloadCheckSync", "ThirdPartyStoragePartitioning",
)  # fmt: skip


# Chromium keeps only the LAST --disable-features switch, so the launcher script merges all of them
# into one (ours and any that a VISPLOTBENCH_CHROMIUM wrapper adds both apply).
_MERGE_FEATURES = (
    'feats=""\n'
    'for a in "$@"; do shift; case "$a" in\n'
    '  --disable-features=*) feats="${feats:+$feats,}${a#--disable-features=}" ;;\n'
    '  *) set -- "$@" "$a" ;;\n'
    "esac; done\n"
)


_FIX = (
    "Fix: apt-get install chromium-headless-shell bubblewrap (or `make install`), then run `visplotbench doctor`; "
    "set VISPLOTBENCH_CHROMIUM to use another Chromium binary."
)


def _launch_script(chromium: str) -> str:
    """Shell lines that exec Chromium with its arguments, the --disable-features switches merged."""
    return _MERGE_FEATURES + f'exec {shlex.quote(chromium)} "$@" ${{feats:+"--disable-features=$feats"}}'


def chromium_path() -> str:
    """The Chromium binary: $VISPLOTBENCH_CHROMIUM, Debian's headless shell, Debian's full Chromium,
    or chromium on PATH.

    The headless shell (Debian's ``chromium-headless-shell``, what Playwright uses headless)
    is the same Blink without a browser UI: measured on the task set's HTML pages it needs 0.26
    CPU-s per job against 0.38 for the full browser, whose hidden window still redraws its toolbar
    and tab strip on every navigation. Pixels are the same except canvas text anti-aliasing.
    """
    candidates = [
        os.environ.get("VISPLOTBENCH_CHROMIUM", ""),
        "/usr/lib/chromium/chromium-headless-shell",
        "/usr/lib/chromium/chromium",
        shutil.which("chromium-headless-shell") or "",
        shutil.which("chromium") or "",
        shutil.which("chromium-browser") or "",
    ]
    for path in candidates:
        if path and os.access(path, os.X_OK):
            return path
    raise EnvironmentProblem(f"Chromium is not installed. {_FIX}")


def chromium_version() -> str:
    """The version of the Chromium that ``chromium_path`` picks (``--version``), without starting it.

    Render cache keys include it, so it must be the same before and after the browser starts (the
    DevTools ``Browser.getVersion`` product string has the same number) and must follow an upgrade
    of the binary: the answer is cached per binary path and modification time.
    """
    path = chromium_path()
    return _chromium_version(path, os.stat(path).st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _chromium_version(path: str, mtime_ns: int) -> str:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        ).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"{path} --version failed: {exc}. {_FIX}") from exc
    found = re.search(r"(\d+(?:\.\d+)+)", out)
    if not found:
        raise EnvironmentProblem(f"{path} --version printed no version ({out.strip()[:80]!r}). {_FIX}")
    return found.group(1)


def check_browser() -> None:
    """Raise EnvironmentProblem (with the fix) when the browser cannot run here."""
    chromium_path()
    if os.environ.get("VISPLOTBENCH_BROWSER_SANDBOX", "1") != "0":
        from visplotbench.engine._sandbox import bwrap_path

        bwrap_path()
