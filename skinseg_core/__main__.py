import sys

from skinseg_core.cli import main

sys.exit(main())
