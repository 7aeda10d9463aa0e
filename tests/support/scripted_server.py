"""The scripted model server moved into the package (agent_core/testing/scripted_server.py) so that tests
written from traces can use it wherever SmallCode is installed; this name stays for the existing tests and for
`python -m tests.support.scripted_server SCRIPT.json`."""

import sys

from agent_core.testing import scripted_server as _module

if __name__ == "__main__":
    _module.main()
else:  # the same module object: its names, private ones and ENDLESS_SECONDS patches included
    sys.modules[__name__] = _module
