"""SkinSeg engine: the networks, training, inference and command line, with no Qt.

Importing the package switches off albumentations' update check, which would otherwise contact PyPI on import:
clinical photos are private and SkinSeg must work air-gapped.
"""

import os

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
