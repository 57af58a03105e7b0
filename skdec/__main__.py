"""``python -m skdec``: the ``skdec`` command (:mod:`skdec.cli`)."""

import sys

from skdec.cli import main

sys.exit(main())
