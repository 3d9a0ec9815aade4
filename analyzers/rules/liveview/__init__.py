"""LV — Phoenix LiveView: memory, blocking callbacks, double submits, subscriptions.

Importing this package registers the LV rules.
"""

from analyzers.rules.liveview import facts  # noqa: F401 - imported to register the collector
from analyzers.rules.liveview import templates  # noqa: F401 - registers LV004, LV005
