"""`python -m acp_server`: the same as `smallcode acp`."""

import sys

from acp_server.main import main

sys.exit(main())
