"""Fixtures of the reliability tests (issue 8).

``demo_copy`` -- a private, refreshable copy of the session's published demo -- is the one
``tests/publish`` defines; it is imported here so that these modules share it rather than
copy it.
"""

from tests.publish.test_publication import demo_copy  # noqa: F401  (a fixture)
