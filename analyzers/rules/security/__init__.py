"""SC — Phoenix security-relevant config: router pipelines and raw HTML in templates.

Importing this package registers the SC rules.
"""

from analyzers.rules.security import router  # noqa: F401 - imported to register rules
from analyzers.rules.security import templates  # noqa: F401 - registers SC003
