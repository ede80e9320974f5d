"""Facts about where a run happens, recorded in its metadata.

Kept apart from the pytest plugin so that the report and the tests can use them
without loading pytest hooks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Variables that name the CI system they are set by, in the order they are tried.
CI_SYSTEMS = (
    ("GITHUB_ACTIONS", "GitHub Actions"),
    ("GITLAB_CI", "GitLab CI"),
    ("JENKINS_URL", "Jenkins"),
    ("BUILDKITE", "Buildkite"),
    ("CIRCLECI", "CircleCI"),
    ("TRAVIS", "Travis CI"),
    ("TF_BUILD", "Azure Pipelines"),
    ("TEAMCITY_VERSION", "TeamCity"),
    ("BITBUCKET_BUILD_NUMBER", "Bitbucket Pipelines"),
    ("DRONE", "Drone"),
    ("WOODPECKER_CI", "Woodpecker"),
)
FLAG_VALUES = ("true", "1", "yes")


def ci_name(environ: Mapping[str, str] | None = None) -> str | None:
    """The name of the CI system running this process; ``CI`` when only the
    generic ``CI`` flag is set; None outside CI.

    >>> ci_name({"CI": "true", "GITLAB_CI": "true"})
    'GitLab CI'
    >>> ci_name({"CI": "true"})
    'CI'
    """
    environ = os.environ if environ is None else environ
    for variable, name in CI_SYSTEMS:
        if environ.get(variable):
            return name
    flag = environ.get("CI", "").strip()
    if not flag or flag.lower() in ("false", "0", "no"):
        return None
    return "CI" if flag.lower() in FLAG_VALUES else flag
