"""The suite's settings: the app's own, with the development defaults (`DEBUG=1`).

The app is production unless `DEBUG=1` is set; tests rely on its development defaults (secrets,
hosts, the dev tools), so this sets `DEBUG=1` before the real settings are read. It goes into
`os.environ`, so every process a test starts (workers, sweeper, `manage.py` commands) gets the
same defaults. `tests/core/test_production_settings.py` runs `manage.py` with the real settings
module and without this variable, so production stays what it checks.
"""

import os

os.environ.setdefault("DEBUG", "1")

from notifyme.settings import *  # noqa: F403
