"""Where the npm package allure (Allure 3) is installed for the harness: the one
definition that scripts/need-npm-allure (which installs it) and the report's
``find_allure`` (which runs it) both use.

``python -m harness.report.allure_npm version`` prints the version to install,
``... folder`` the folder to install it into; the module needs only the standard
library, so any python3 can answer for the script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.run import cache_root

NPM_ALLURE_VERSION = "3.18.0"
VERSION_ENV = "HARNESS_ALLURE_VERSION"


def npm_allure_version() -> str:
    """The allure version installed for the harness (``$HARNESS_ALLURE_VERSION``
    overrides the tested one)."""
    return os.environ.get(VERSION_ENV) or NPM_ALLURE_VERSION


def npm_allure_folder() -> Path:
    """``<harness cache>/npm/allure-<version>``, the npm prefix it goes into."""
    return cache_root() / "npm" / f"allure-{npm_allure_version()}"


def npm_allure_command() -> Path:
    """The allure command an install into ``npm_allure_folder()`` provides."""
    return npm_allure_folder() / "node_modules" / ".bin" / "allure"


def main(argv: list[str]) -> int:
    """Print what scripts/need-npm-allure asks for: ``version`` or ``folder``."""
    answers = {"version": npm_allure_version, "folder": npm_allure_folder}
    if len(argv) != 1 or argv[0] not in answers:
        print(
            "usage: python -m harness.report.allure_npm version|folder", file=sys.stderr
        )
        return 2
    print(answers[argv[0]]())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
