"""``python -m mognet_lab`` runs the ``mognet-lab`` command."""

import sys

from .cli import main

sys.exit(main())
